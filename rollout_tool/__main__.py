from rollout_tool.cli import run

run()
