from ingestworker.container import Container
from shared.log import configure_logging
from shared.preflight import exit_on_failure


def command_container(command: str) -> Container:
    """The worker's container for a command: its config checked (one-line exit), warnings
    only in the log (the command prints its own progress and summary)."""
    container = Container()
    with exit_on_failure():
        settings = container.settings()
    configure_logging(settings.log.model_copy(update={"level": "WARNING"}), command)
    return container
