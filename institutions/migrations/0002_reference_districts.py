"""Reference data: Taizhou city and its nine county-level divisions (API.md)."""

from django.db import migrations

CITY = ("3310", "台州市")
DISTRICTS = [
    ("331002", "椒江区"), ("331003", "黄岩区"), ("331004", "路桥区"), ("331081", "温岭市"),
    ("331082", "临海市"), ("331083", "玉环市"), ("331022", "三门县"), ("331023", "天台县"),
    ("331024", "仙居县"),
]


def load(apps, schema_editor):
    District = apps.get_model("institutions", "District")
    city, _ = District.objects.update_or_create(code=CITY[0], defaults={"name": CITY[1], "level": "city"})
    for code, name in DISTRICTS:
        District.objects.update_or_create(code=code, defaults={"name": name, "level": "district", "parent": city})


class Migration(migrations.Migration):
    dependencies = [("institutions", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
