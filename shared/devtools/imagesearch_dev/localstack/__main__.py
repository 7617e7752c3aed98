import sys

from imagesearch_dev.localstack.cli import main

sys.exit(main())
