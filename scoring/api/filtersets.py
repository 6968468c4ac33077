import django_filters
from django.utils.translation import gettext_lazy as _

from core.api.filters import YearFilter
from institutions.models import InstitutionCategory

from ..models import Assessment, Colour, Result, ResultStatus


class ResultFilterSet(django_filters.FilterSet):
    year = YearFilter()
    category = django_filters.ChoiceFilter(choices=InstitutionCategory.choices)
    colour = django_filters.ChoiceFilter(choices=Colour.choices)
    status = django_filters.ChoiceFilter(choices=ResultStatus.choices)
    institution = django_filters.CharFilter(field_name="institution__code", label=_("机构编码"))
    district = django_filters.CharFilter(field_name="district__code", label=_("区县代码"))
    red_line = django_filters.BooleanFilter()

    class Meta:
        model = Result
        fields = ["year", "category", "colour", "status", "institution", "district", "red_line"]


class AssessmentFilterSet(django_filters.FilterSet):
    year = YearFilter()
    state = django_filters.ChoiceFilter(choices=Assessment.State.choices)
    institution = django_filters.CharFilter(field_name="institution__code")
    category = django_filters.ChoiceFilter(field_name="institution__category", choices=InstitutionCategory.choices)
    district = django_filters.CharFilter(field_name="institution__district__code", label=_("区县代码"))

    class Meta:
        model = Assessment
        fields = ["year", "state", "institution", "category", "district"]
