"""Alembic environment: the app runs it with an open connection (`config.attributes["connection"]`);
developers run it from a shell with `alembic -c src/journey/serve/migrations/alembic.ini -x url=<URL> ...`."""

from alembic import context
from sqlalchemy import create_engine

from journey.serve.store import Base


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///.journey/app.sqlite")
    with create_engine(url).connect() as fresh:
        run_migrations(fresh)
