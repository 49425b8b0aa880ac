from .commands.launch import run

run()
