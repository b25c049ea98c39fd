"""rollout-as-code: the staged rollout of software updates, run as a git repository."""
