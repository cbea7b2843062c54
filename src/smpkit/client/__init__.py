"""The asyncio SMP client (placeholder until the client lands)."""


class SMPClient:
    """Placeholder."""
