from shared.intake.intake import Intake, rejected

__all__ = ["Intake", "rejected"]
