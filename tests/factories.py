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
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
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
