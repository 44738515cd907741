"""Consumer lag: in messages and in seconds, with a Burrow-style status per partition."""
