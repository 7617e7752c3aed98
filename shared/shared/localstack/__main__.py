import sys

from shared.localstack.cli import main

sys.exit(main())
