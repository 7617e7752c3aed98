from pydantic import BaseModel, Field

from shared.netguard import IPNetwork


class WebhookSettings(BaseModel):
    """Webhooks: who may be called, and how deliveries are retried (ingestworker's deliverer,
    `deliver-webhooks`; ingestapi checks URLs with the same allow list when a hook is made)."""

    allow_networks: list[IPNetwork] = Field(
        default_factory=list,
        description="non-public networks a hook may call anyway (as fetch.allow_networks)",
    )
    max_hooks: int = Field(100, ge=1, le=10_000)
    timeout_s: float = Field(10.0, gt=0, description="one delivery attempt, connect to answer")
    first_retry_s: float = Field(30.0, gt=0, description="wait after the first failed attempt")
    max_backoff_s: float = Field(3600.0, gt=0, description="longest wait between attempts")
    give_up_after_s: float = Field(
        86400.0, gt=0, description="a delivery still failing this long after its event fails"
    )
    pause_after_failures: int = Field(
        20, ge=1, description="failed attempts in a row (any of its deliveries) that pause a hook"
    )
    max_pending: int = Field(
        10_000,
        ge=1,
        description="deliveries one hook may have waiting; past it the hook is paused (its "
        "receiver is far behind) and its new events are not queued",
    )
    paused_recheck_s: float = Field(
        30.0,
        gt=0,
        description="how often a paused hook's waiting deliveries are looked at "
        "(they go out this soon after it is resumed)",
    )
    concurrency: int = Field(8, ge=1, le=256, description="deliveries in flight at once")
    log_size: int = Field(100, ge=1, le=10_000, description="deliveries each hook's log keeps")
    log_keep_s: int = Field(7 * 86400, ge=60, description="how long a finished delivery is kept")
    refresh_s: float = Field(
        0.0, ge=0, description="the hooks are read again when they change, checked this often"
    )
    poll_s: float = Field(
        1.0, gt=0, le=60, description="the deliverer's longest sleep when nothing is due"
    )
