-- A step is marked `attempting` before its request is sent and `delivered` once the provider
-- accepted it. A step left `attempting` by a crash may or may not have reached the provider;
-- the sender asks the provider about it (by the marker in the message) before sending again.
-- Rows written before this migration were all delivered ones, so that is the default.
-- `status_code` is null while attempting, and for a step found at the provider instead of
-- answered by it. `delivered_at` is when the row was written until the step is delivered,
-- then when it was; old rows of either state are pruned by it.

ALTER TABLE deliveries
    ADD COLUMN state text NOT NULL DEFAULT 'delivered'
        CHECK (state IN ('attempting', 'delivered')),
    ADD COLUMN attempted_at timestamptz,
    ALTER COLUMN status_code DROP NOT NULL;
