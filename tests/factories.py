import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from institutions.models import District, Employee, Institution, Membership
from institutions.usc import make_usc_code


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "Pass-word-123")

    @factory.post_generation
    def roles(self, create, extracted, districts=None, **kwargs):
        """District-wide roles are granted 路桥区 (331004), `city` 台州市 (3310), unless
        `roles__districts=[codes]` says otherwise; other roles are just the group (memberships are
        made by `institution_user`)."""
        from institutions.models import GRANT_ROLES
        from institutions.services import grant_role

        for role in extracted or ():
            if role in GRANT_ROLES:
                for code in districts or (["3310"] if role == "city" else ["331004"]):
                    grant_role(self, role, District.objects.get(code=code))
            else:
                self.groups.add(Group.objects.get(name=role))
        self.save()


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    code = factory.Sequence(lambda n: f"T{n:04d}")
    name = factory.Sequence(lambda n: f"测试银行{n}")
    short_name = factory.Sequence(lambda n: f"测试{n}")
    category = "bank"
    usc_code = factory.Sequence(lambda n: make_usc_code(f"91331004MA{n:07d}"))
    district = factory.LazyFunction(lambda: District.objects.get(code="331004"))


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"员工{n}")
    employee_no = factory.Sequence(lambda n: f"E{n:05d}")


def institution_user(institution, role="institution_filer", **kwargs):
    user = UserFactory(roles=[role], **kwargs)
    Membership.objects.create(user=user, institution=institution, role=role)
    return user
