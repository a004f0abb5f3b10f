from dxpy.cli import main
import sys
sys.exit(main())
