-- Placeholder: keeps migration numbers contiguous on this branch until 0009 of another part lands.
-- Drop this file when merging that part.
SELECT 1;
