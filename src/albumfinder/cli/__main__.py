from albumfinder.cli.main import main

raise SystemExit(main())
