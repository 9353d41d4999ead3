-- Whose clock an event's ts is ('device' or 'gateway'; NULL for events stored before this column).
ALTER TABLE events ADD COLUMN time_source text CHECK (time_source IN ('device', 'gateway'));
