import django_filters
from django.utils.translation import gettext_lazy as _

from ..models import Institution


class InstitutionFilterSet(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Institution.Category.choices)
    district = django_filters.CharFilter(field_name="district__code", label=_("行政区划代码"))
    is_active = django_filters.BooleanFilter()
    is_local_corporate = django_filters.BooleanFilter()

    class Meta:
        model = Institution
        fields = ["category", "district", "is_active", "is_local_corporate"]
