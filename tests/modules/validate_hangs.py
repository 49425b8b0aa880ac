"""Never finishes importing: validate must stop it and report it."""

while True:
    pass
