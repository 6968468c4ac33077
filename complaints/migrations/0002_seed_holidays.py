"""Seed the editable holiday table from the chinese-calendar package for every year it knows.

Later years (the package stops at 2026) are entered by the finance center in the admin when the
State Council publishes them; until then those years count weekends only and dates are provisional.
"""

from django.db import migrations

NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def seed(apps, schema_editor):
    import chinese_calendar

    from core.workdays import schedule_from_chinese_calendar

    HolidayYear = apps.get_model("complaints", "HolidayYear")
    HolidayDate = apps.get_model("complaints", "HolidayDate")
    schedule = schedule_from_chinese_calendar(range(2000, 2101))
    existing = set(HolidayYear.objects.values_list("year", flat=True))
    years = sorted(schedule.known_years - existing)
    HolidayYear.objects.bulk_create([HolidayYear(year=y, source="chinese-calendar 软件包") for y in years])
    rows = []
    for day in sorted(schedule.holidays | schedule.workdays):
        if day.year not in years:
            continue
        _, name = chinese_calendar.get_holiday_detail(day)
        rows.append(HolidayDate(year_id=day.year, day=day,
                                kind="holiday" if day in schedule.holidays else "workday",
                                name=NAMES.get(str(name), "") if name else ""))
    HolidayDate.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
