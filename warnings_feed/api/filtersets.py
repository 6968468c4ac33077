import django_filters
from django.utils.translation import gettext_lazy as _

from institutions import access

from ..models import CaseType, Severity, Warning


class FeedFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(method="filter_unread", label=_("未读"))
    acknowledged = django_filters.BooleanFilter(method="filter_acknowledged", label=_("已确认知悉"))
    case_type = django_filters.ChoiceFilter(choices=CaseType.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    district = django_filters.CharFilter(method="filter_district", label=_("区县（行政区划代码）"))

    class Meta:
        model = Warning
        fields = ["unread", "acknowledged", "case_type", "severity", "district"]

    def filter_district(self, queryset, name, value):
        # One of the caller's districts; any other is a 404 (access.resolve_district).
        return queryset.filter(district=access.resolve_district(self.request.user, value))

    def filter_unread(self, queryset, name, value):
        unread = {"my_delivery__isnull": False, "my_read_at__isnull": True}
        return queryset.filter(**unread) if value else queryset.exclude(**unread)

    def filter_acknowledged(self, queryset, name, value):
        if value:
            return queryset.filter(my_acknowledged_at__isnull=False)
        return queryset.filter(my_delivery__isnull=False, my_acknowledged_at__isnull=True)
