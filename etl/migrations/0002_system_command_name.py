"""A System names one of the commands configured in ETL_COMMANDS instead of holding a typed argv."""

from typing import Any

import django.core.validators
from django.conf import settings
from django.db import migrations, models


def name_the_commands(apps: Any, schema_editor: Any) -> None:
    """Give each System with a typed command the name that ETL_COMMANDS configures for that argv.

    A typed command no name matches gets "unconfigured-<code>": its runs fail with a clear error until an
    operator configures that name in ETL_COMMANDS (or picks another) — it never runs something else.
    """
    configured = {tuple(argv): name for name, argv in dict(getattr(settings, "ETL_COMMANDS", {})).items()}
    System = apps.get_model("etl", "System")
    for system in System.objects.exclude(command=[]):
        system.command_name = configured.get(tuple(system.command or ()), f"unconfigured-{system.code}"[:40])
        system.save(update_fields=["command_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("etl", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="system",
            name="command_name",
            field=models.CharField(
                blank=True,
                default="",
                help_text="one of the commands configured in ETL_COMMANDS; empty runs the bundled pipeline",
                max_length=40,
            ),
        ),
        migrations.RunPython(name_the_commands, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(
            model_name="system",
            name="command",
        ),
        migrations.AlterField(
            model_name="system",
            name="code",
            field=models.SlugField(
                help_text="e.g. amplis, maps, fidc",
                max_length=40,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A[a-z0-9][a-z0-9_-]{0,39}\\Z", "a lower-case slug that does not start with -"
                    )
                ],
            ),
        ),
    ]
