import django_filters

from .. import rules
from ..models import Alert, AlertStatus, Severity


class AlertFilterSet(django_filters.FilterSet):
    rule = django_filters.ChoiceFilter(choices=[(c, f"{c} {r.title}") for c, r in rules.RULES.items()])
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    employee_no = django_filters.CharFilter()
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = Alert
        fields = ["rule", "status", "severity", "employee_no"]

    def filter_overdue(self, queryset, name, value):
        from django.utils import timezone

        from ..services import OPEN_STATUSES

        cond = {"status__in": OPEN_STATUSES, "due_on__lt": timezone.localdate()}
        return queryset.filter(**cond) if value else queryset.exclude(**cond)
