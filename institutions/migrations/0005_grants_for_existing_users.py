"""Users who held a district-wide role before grants existed keep what they saw: every district that
has institutions (the city of those districts for `city` users). The administrator narrows them."""

from django.db import migrations

DISTRICT_ROLES = ("finance_center", "inspector", "third_party", "discipline", "api_client")


def grant_existing(apps, schema_editor):
    User = apps.get_model("auth", "User")
    District = apps.get_model("institutions", "District")
    Institution = apps.get_model("institutions", "Institution")
    DistrictGrant = apps.get_model("institutions", "DistrictGrant")
    used = list(District.objects.filter(pk__in=Institution.objects.values("district_id")))
    cities = {d.parent_id for d in used if d.parent_id}
    for role in (*DISTRICT_ROLES, "city"):
        targets = [District.objects.get(pk=c) for c in cities] if role == "city" else used
        for user in User.objects.filter(groups__name=role).exclude(district_grants__role=role):
            for district in targets:
                DistrictGrant.objects.get_or_create(user=user, role=role, district=district)


class Migration(migrations.Migration):
    dependencies = [("institutions", "0004_district_grants")]
    operations = [migrations.RunPython(grant_existing, migrations.RunPython.noop)]
