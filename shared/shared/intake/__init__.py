from shared.intake.intake import Intake

__all__ = ["Intake"]
