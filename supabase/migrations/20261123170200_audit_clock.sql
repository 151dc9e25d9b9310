-- why: the audit trail's order must be the order things happened. `now()` is when a transaction
-- started, so a transaction that waited for a booking's row lock recorded its (later) change with
-- an earlier time than the change it waited for (seen in a torture run: a cancel listed before the
-- confirm it followed). clock_timestamp() is taken when the row is written, after the lock.
alter table slotbase.booking_events alter column at set default clock_timestamp();
comment on column slotbase.booking_events.at is 'When the change was written (clock_timestamp(), after any lock wait): the audit trail sorts by it.';
