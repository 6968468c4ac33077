"""Existing results get the other two uses' codes, labels and points from the default table (the only
table any scheme had when they were written: the table arrived with 0010)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    "party_building": {"green": ("recommended", "优先推荐评星", "2"), "blue": ("eligible", "正常参评", "0"),
                       "yellow": ("capped", "限制评星（不高于三星）", "-2"), "red": ("excluded", "不得评星", "-5"),
                       "red_line": ("veto", "一票否决", "-5")},
    "performance_appraisal": {"green": ("bonus", "考评加分", "2"), "blue": ("standard", "正常考评", "0"),
                              "yellow": ("deduct", "考评扣分", "-2"), "red": ("heavy_deduct", "考评重扣", "-5"),
                              "red_line": ("veto", "一票否决（不得评优）", "-10")},
}
FISCAL_LABELS = {"priority": "优先", "eligible": "正常", "restricted": "限制", "excluded": "禁入"}


def fill(apps, schema_editor):
    Result = apps.get_model("scoring", "Result")
    for result in Result.objects.filter(party_building="").iterator(chunk_size=2000):
        labels = {"fiscal_tender": FISCAL_LABELS.get(result.fiscal_tender, result.fiscal_tender)}
        for use in ("party_building", "performance_appraisal"):
            key = "red_line" if result.red_line else result.colour
            code, label, points = DEFAULTS[use].get(key, ("", "", "0"))
            setattr(result, use, code)
            setattr(result, f"{use}_points", Decimal(points))
            labels[use] = label
        result.linkage_labels = labels
        result.save(update_fields=["party_building", "performance_appraisal", "party_building_points",
                                   "performance_appraisal_points", "linkage_labels"])


class Migration(migrations.Migration):
    dependencies = [("scoring", "0010_result_fiscal_tender_points_result_linkage_labels_and_more")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
