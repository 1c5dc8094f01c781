import sys

from gjenganger.cli import main

sys.exit(main())
