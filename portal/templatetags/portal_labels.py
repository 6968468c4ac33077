"""Labels in words for codes the pages would otherwise show raw (issue #12, item 2): a colour's name
instead of `green`, an assessment's history entry as a sentence instead of
`thirdparty submit_third_party：考评中 → 考评中`, a complaint's log action (`accept`, `verify`, …) by
its label. The project level (portal) may read every app's choices; the apps' pages load this
library with {% load portal_labels %}."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scoring.models import AssessmentState, Colour, Source

register = template.Library()

# What each logged action of an assessment did, in words; {source} is the sheet's label.
ASSESSMENT_ACTIONS = {
    "save_self": gettext_lazy("保存了机构自评草稿"),
    "import": gettext_lazy("导入了机构自评表"),
    "review_started": gettext_lazy("开始考评"),
    "correct": gettext_lazy("更正了{source}"),
    "submit": gettext_lazy("提交了{source}"),
    "return": gettext_lazy("退回了{source}"),
}

# A complaint's log (complaints.rules.TRANSITIONS names the same actions).
COMPLAINT_ACTIONS = {
    "accept": gettext_lazy("受理"),
    "reject": gettext_lazy("不予受理"),
    "verify": gettext_lazy("开始初核"),
    "forward_discipline": gettext_lazy("移送区纪委监委"),
    "refer_institution": gettext_lazy("交办被反映机构"),
    "conclude": gettext_lazy("作出结论"),
    "close": gettext_lazy("办结并答复"),
    "archive": gettext_lazy("归档评价"),
    "convert_to_report": gettext_lazy("评价转为举报"),
    "flag_party_member": gettext_lazy("标记涉及党员"),
    "extend": gettext_lazy("延长办理期限"),
    "merge": gettext_lazy("合并至同类案件"),
    "merge_in": gettext_lazy("并入其他案件"),
    "set_basis": gettext_lazy("变更办理依据"),
    "institution_reply": gettext_lazy("机构报送办理情况"),
    "reply_accepted": gettext_lazy("机构回复审核通过"),
    "reply_returned": gettext_lazy("机构回复被退回"),
    "reply": gettext_lazy("机构答复"),
    "reveal": gettext_lazy("查看身份信息"),
    "note": gettext_lazy("添加备注"),
    "notice_queued": gettext_lazy("短信告知反映人（待发送）"),
    "notice_sent": gettext_lazy("短信告知反映人（已发送）"),
    "notice_failed": gettext_lazy("短信告知反映人（发送失败）"),
    "notice_skipped": gettext_lazy("未能短信告知反映人"),
}


def _source_label(code: str) -> str:
    return str(Source(code).label) if code in Source.values else ""


@register.filter
def colour_label(code) -> str:
    """`green` → 绿 (in the page's language); an unknown code stays hidden behind a dash."""
    return str(Colour(code).label) if code in Colour.values else "—"


@register.filter
def assessment_state_label(code) -> str:
    return str(AssessmentState(code).label) if code in AssessmentState.values else "—"


@register.filter
def assessment_event_words(event) -> str:
    """One history entry as a sentence: what was done, to which sheet, and where it left the
    assessment (only when the state changed)."""
    action = event.action or ""
    source = event.source or ""
    base = action
    for prefix in ("submit", "return"):
        if action.startswith(prefix + "_"):
            base, source = prefix, source or action[len(prefix) + 1:]
    words = ASSESSMENT_ACTIONS.get(base)
    text = str(words).format(source=_source_label(source) or _("评分表")) if words else _("变更了测评表")
    if event.from_state != event.to_state:
        text += _("，状态由“{old}”变为“{new}”").format(old=assessment_state_label(event.from_state),
                                                    new=assessment_state_label(event.to_state))
    return text


@register.filter
def complaint_action_label(code) -> str:
    label = COMPLAINT_ACTIONS.get(code or "")
    return str(label) if label else _("其他操作")


@register.filter
def label_at(sequence, index):
    """The label of the index-th column: `sources|label_at:forloop.counter0` (a (value, label, …)
    tuple's label, or the item itself), for the data-label of cells made in a loop."""
    try:
        item = list(sequence)[int(index)]
    except (TypeError, ValueError, IndexError):
        return ""
    return str(item[1]) if isinstance(item, (tuple, list)) and len(item) > 1 else str(item)


@register.filter
def sample_ok(count) -> bool:
    """Whether a rate rests on enough answers to be shown (settings.CHARTS_MIN_SAMPLE, default 5);
    below it the pages say 样本不足 rather than swing between 0 and 100 %."""
    try:
        return int(count or 0) >= int(getattr(settings, "CHARTS_MIN_SAMPLE", 5))
    except (TypeError, ValueError):
        return False


@register.filter
def percent(value) -> str:
    """One format for every percentage: one decimal, no trailing .0 (85%, 85.5%); — when missing."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return "—"
    text = format(number.normalize(), "f") if number != number.to_integral() else str(int(number))
    return f"{text}%"


# What an institution's own staff read for their assessment's state: where it stands for them, not
# the workflow's internal step ("已评分" on a sheet they still see as a draft reads as a result).
INSTITUTION_STATES = {
    "not_started": gettext_lazy("未开始填报"),
    "self_in_progress": gettext_lazy("自评填报中（草稿，待负责人提交）"),
    "self_submitted": gettext_lazy("自评已提交，等待考评"),
    "in_review": gettext_lazy("检查组、第三方考评中"),
    "scored": gettext_lazy("考评完成，结果待公示"),
    "notice": gettext_lazy("结果公示中（可提出异议）"),
    "published": gettext_lazy("结果已发布"),
}


@register.filter
def institution_state_label(code) -> str:
    label = INSTITUTION_STATES.get(code or "")
    return str(label) if label else assessment_state_label(code)
