"""The per-item summary moves into the results' rows (issue 16): `Result.item_cents` (item number ->
cents) replaces the `ItemResult` rows, one per institution and item. The stored rows are carried
over as they are (no aggregation needed); then the table goes."""

from decimal import Decimal

from django.db import migrations, models


def carry_over(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE scoring_result r SET item_cents = i.cents"
            " FROM (SELECT institution_id, year,"
            "       jsonb_object_agg(item_number::text, round(points * 100)::integer) AS cents"
            "       FROM scoring_itemresult GROUP BY institution_id, year) i"
            " WHERE r.institution_id = i.institution_id AND r.year = i.year")
        return
    ItemResult = apps.get_model("scoring", "ItemResult")
    Result = apps.get_model("scoring", "Result")
    by_result: dict = {}
    for institution_id, year, number, points in ItemResult.objects.values_list(
            "institution_id", "year", "item_number", "points").iterator(chunk_size=5000):
        by_result.setdefault((institution_id, year), {})[str(number)] = int(round(points * 100))
    changed = []
    for result in Result.objects.only("pk", "institution_id", "year").iterator(chunk_size=5000):
        cents = by_result.get((result.institution_id, result.year))
        if cents:
            result.item_cents = cents
            changed.append(result)
    Result.objects.bulk_update(changed, ["item_cents"], batch_size=1000)


def carry_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "INSERT INTO scoring_itemresult (institution_id, year, district_id, item_number, points, computed_at)"
            " SELECT r.institution_id, r.year, r.district_id, e.key::integer, (e.value::text)::numeric / 100,"
            "        r.computed_at"
            " FROM scoring_result r, jsonb_each(r.item_cents) AS e")
        return
    ItemResult = apps.get_model("scoring", "ItemResult")
    Result = apps.get_model("scoring", "Result")
    rows = []
    for result in Result.objects.exclude(item_cents={}).iterator(chunk_size=5000):
        for number, cents in result.item_cents.items():
            rows.append(ItemResult(institution_id=result.institution_id, year=result.year,
                                   district_id=result.district_id, item_number=int(number),
                                   points=Decimal(cents).scaleb(-2), computed_at=result.computed_at))
    ItemResult.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0017_sheet_sums'),
    ]

    operations = [
        migrations.AddField(
            model_name='result',
            name='item_cents',
            field=models.JSONField(blank=True, default=dict, help_text='项号 → 该项加权得分（以分计，汇总时写入）',
                                   verbose_name='分项得分（分）'),
        ),
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(
            name='ItemResult',
        ),
    ]
