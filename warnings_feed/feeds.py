"""Atom feed of public warnings (names masked, like everything the public sees)."""

from django.contrib.syndication.views import Feed
from django.urls import reverse, reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from . import presentation, selectors

FEED_ITEMS = 50


class PublicWarningsFeed(Feed):
    feed_type = Atom1Feed
    title = _("清廉金融 · 公开警示信息")
    subtitle = _("区金融工作中心公开发布的警示信息（人员姓名已脱敏）")
    link = reverse_lazy("warnings_feed:public_list")
    feed_url = reverse_lazy("warnings_feed:public_atom")

    def items(self):
        items = list(selectors.public_warnings()[:FEED_ITEMS])
        presentation.attach_registry(items)
        return items

    def item_title(self, item):
        return presentation.title_for(item, reveal_names=False)

    def item_description(self, item):
        return presentation.body_for(item, reveal_names=False)

    def item_link(self, item):
        return reverse("warnings_feed:public_detail", args=[item.pk])

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.issuer

    def item_categories(self, item):
        return [item.get_case_type_display()]
