"""`python -m litellm_rust`: the command-line interface."""

from litellm_rust.cli import main

raise SystemExit(main())
