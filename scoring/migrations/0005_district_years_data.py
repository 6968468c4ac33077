"""Each district that took part in a year gets its own year state, copied from the scheme's old
status (until now one status served every district); results carry their district."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    Scheme = apps.get_model("scoring", "Scheme")
    Assessment = apps.get_model("scoring", "Assessment")
    Result = apps.get_model("scoring", "Result")
    DistrictYear = apps.get_model("scoring", "DistrictYear")
    Institution = apps.get_model("institutions", "Institution")
    Result.objects.filter(district__isnull=True).update(
        district_id=Subquery(Institution.objects.filter(pk=OuterRef("institution_id")).values("district_id")[:1]))
    for scheme in Scheme.objects.all():
        status = {"notice": "notice", "published": "published"}.get(scheme.status, "open")
        districts = (Assessment.objects.filter(scheme_id=scheme.pk).values_list("institution__district_id", flat=True)
                     .distinct().order_by())
        for district_id in districts:
            DistrictYear.objects.get_or_create(district_id=district_id, year=scheme.year, defaults={
                "scheme_id": scheme.pk, "status": status, "notice_ends_on": scheme.notice_ends_on,
                "published_at": scheme.published_at})
        if scheme.status in ("notice", "published"):
            scheme.status = "active"
            scheme.save(update_fields=["status"])


class Migration(migrations.Migration):
    dependencies = [("scoring", "0004_district_years"), ("institutions", "0005_grants_for_existing_users")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
