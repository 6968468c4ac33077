"""A district grant revoked while another grant of the same role is being made for the same user: the
user keeps the role's group. (Review finding: the revocation did not see the grant being made, and took
the group away although that grant remained.)"""

import pytest
from django.conf import settings

from institutions import services
from institutions.models import District, DistrictGrant
from tests.concurrency import crossing
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


def test_a_revocation_and_a_grant_of_the_same_role_at_once_keep_the_group():
    root = UserFactory(username="root_grants", is_superuser=True, is_staff=True)
    user = UserFactory(username="officer")
    first = services.grant_role(user, "finance_center", District.objects.get(code="331004"), granted_by=root)
    waited, outcome = crossing(
        lambda: services.grant_role(user, "finance_center", District.objects.get(code="331002"), granted_by=root),
        lambda: services.revoke_role(DistrictGrant.objects.get(pk=first.pk), revoked_by=root))
    assert "first_error" not in outcome and "error" not in outcome, outcome
    assert waited, "the revocation did not wait for the grant"
    assert list(DistrictGrant.objects.filter(user=user).values_list("district__code", flat=True)) == ["331002"]
    assert user.groups.filter(name="finance_center").exists()
