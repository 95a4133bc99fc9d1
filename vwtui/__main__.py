from vwtui.cli import main

raise SystemExit(main())
