"""The bot: the only code that talks to GitHub, and the only user of PyGithub."""
