from shared.intake.intake import Intake, rejected
from shared.intake.queueing import queue_for_indexing

__all__ = ["Intake", "queue_for_indexing", "rejected"]
