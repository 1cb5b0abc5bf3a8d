"""Export connectors: deliver outbox jobs with httpx. No Textual: they also run from `till exports run`."""
