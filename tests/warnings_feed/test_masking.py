import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.masking import (
    COMPOUND_SURNAMES,
    NOT_NAMES,
    SINGLE_SURNAMES,
    STOP_WORDS,
    detect_names,
    mask_name,
    mask_text,
    mask_warning_text,
    surname_of,
    warm_up,
)


@pytest.fixture(autouse=True, scope="module")
def _segmenter_loaded():
    """jieba loads in about 1 s on first use: before the property tests' 200 ms deadline starts."""
    warm_up()

BRIEF_COMPOUNDS = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "申屠", "太史", "闻人", "呼延", "澹台",
    "公冶", "宗政", "濮阳", "淳于", "单于", "赫连", "钟离", "万俟", "司空",
)

# Common given-name characters. Characters that begin a stop word (因, 和, 同 ...) are left out:
# "员工张和平" is read as 张 + nothing, which is the documented limit of detect_names.
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉鹏宇晨浩凯婷雪琳晶欣颖倩佳俊峰斌波宁亮飞"
    "鑫龙云志国海春梅兰丹晓小成林慧燕彬新博子轩涵梓怡思雨家嘉豪天泽一诗悦瑶琪璐辰睿铭昊然逸宏振德荣永兵生金"
    "珍凤莉琴蕾露莹蓉薇"
)

# Surroundings for the property tests: prose, role words, surnames, stop words, 某 and punctuation,
# so that the name sits among look-alikes rather than in clean text.
NOISE_CHARS = (
    "某银行支员工经理被查处酒后驾车违规放贷客户礼品年月日人在因的了于向和、，。：；（）"
    "ABC 123王李黄欧阳司马"
)

# Realistic continuations after a name; each begins where a name plausibly ends.
CONTINUATIONS = (
    "", "酒后驾车被查处", "因违规放贷被处分", "涉嫌挪用客户资金", "收受客户礼品", "，", "。", "在营业时间外",
    "被立案调查", "等人", "同志", "违反规定", "私自出借账户", "利用职务便利", "于2023年被辞退", "的行为",
)

# Stop words such as 于/向/和 are also surnames; detect_names does not read them as names.
DETECTABLE_SURNAMES = sorted(
    s for s in SINGLE_SURNAMES | COMPOUND_SURNAMES if not any(s.startswith(w) for w in STOP_WORDS)
)


@st.composite
def person_names(draw: st.DrawFn) -> tuple[str, str]:
    surname = draw(st.sampled_from(DETECTABLE_SURNAMES))
    given_name = draw(st.text(alphabet=GIVEN_CHARS, min_size=1, max_size=2))
    full = surname + given_name
    # 欧 + 阳明 reads as 欧阳 + 明 by design; and 严格/管理-like starts are words, not names.
    assume(surname_of(full) == surname)
    assume(len(surname) > 1 or full[:2] not in NOT_NAMES)
    return surname, full


def test_surname_of_single_and_compound():
    assert surname_of("黄小明") == "黄"
    assert surname_of("欧阳娜娜") == "欧阳"
    assert surname_of("  司马光 ") == "司马"
    assert surname_of("爱新觉罗溥仪") == "爱新觉罗"
    assert surname_of("") == ""


@pytest.mark.parametrize("compound", BRIEF_COMPOUNDS)
def test_every_compound_surname_from_the_brief(compound):
    assert compound in COMPOUND_SURNAMES
    assert surname_of(compound + "明") == compound
    assert mask_name(compound + "小明") == compound + "某"
    assert mask_name(compound) == compound + "某"


def test_surname_tables():
    assert len(SINGLE_SURNAMES) >= 280
    assert all(len(s) == 1 for s in SINGLE_SURNAMES)
    assert all(len(s) >= 2 for s in COMPOUND_SURNAMES)
    assert {"王", "李", "张", "刘", "陈", "黄", "欧", "于"} <= SINGLE_SURNAMES


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("黄小明", "黄某"),
        ("欧阳娜娜", "欧阳某"),
        ("欧阳娜", "欧阳某"),
        ("欧阳", "欧阳某"),
        ("王五", "王某"),
        ("黄", "黄某"),
        ("  黄小明\n", "黄某"),
        ("", ""),
        ("   ", ""),
        ("王某", "王某"),
        ("王某某", "王某"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_text_repeated_occurrences():
    text = "黄小明酒后驾车。经调查，黄小明曾多次违规，黄小明已被处分。"
    assert mask_text(text, ["黄小明"]) == "黄某酒后驾车。经调查，黄某曾多次违规，黄某已被处分。"


@pytest.mark.parametrize("names", [["黄小", "黄小明"], ["黄小明", "黄小"]])
def test_mask_text_longest_name_first(names):
    assert mask_text("黄小明与黄小同在一个网点", names) == "黄某与黄某同在一个网点"


def test_mask_text_compound_and_several_names():
    text = "欧阳娜娜、司马光和张三受到处分"
    assert mask_text(text, ["欧阳娜娜", "司马光", "张三"]) == "欧阳某、司马某和张某受到处分"


def test_mask_text_ignores_short_and_surname_only_names():
    text = "黄小明和欧阳娜娜"
    # Masking a bare 欧阳 would turn 欧阳娜娜 into 欧阳某娜娜 and reveal the given name.
    assert mask_text(text, ["黄", "", " ", "欧阳"]) == text


def test_mask_text_strips_names():
    assert mask_text("员工黄小明", [" 黄小明 "]) == "员工黄某"


def test_mask_text_overlapping_occurrences_of_one_name():
    assert mask_text("林小林小林", ["林小林"]) == "林某小林"


@pytest.mark.parametrize("text", ["", "本月无警示信息。", "某银行开展反洗钱培训，员工积极参加。"])
def test_text_without_names_is_unchanged(text):
    assert detect_names(text) == []
    assert mask_text(text, []) == text
    assert mask_warning_text(text) == text


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("某银行员工黄小明酒后驾车被查处", ["黄小明"]),
        ("客户经理欧阳娜娜收受客户礼品", ["欧阳娜娜"]),
        ("支行长王某某", []),
        ("员工王某因酒驾被查处", []),
        ("员工王某涉嫌挪用资金", []),
        ("副行长李强违规发放贷款", ["李强"]),
        ("柜员张伟私自挪用客户资金", ["张伟"]),
        ("保险代理人司马光擅自销售产品", ["司马光"]),
        # The second name has no role word before it: jieba's tagger finds it.
        ("工作人员赵敏、钱军与客户发生争执", ["赵敏", "钱军"]),
        ("某农商行信贷员刘洋涉嫌受贿", ["刘洋"]),
        ("理财经理陈静在营业时间外推销产品", ["陈静"]),
        ("员工黄小明明天上岗", ["黄小明"]),
        ("会计师事务所出具报告", []),
        ("员工严重违反规定", []),
        ("人员管理制度不健全", []),
        ("员工于近日被查处", []),
        ("员工向客户推销", []),
        ("黄小明同志因工作失误被批评", ["黄小明"]),
        ("经查，李强等人违规放贷", ["李强"]),
        ("主任王明等人被通报", ["王明"]),
        ("员工黄小明、支行长欧阳娜娜，员工黄小明", ["黄小明", "欧阳娜娜"]),
    ],
)
def test_detect_names(text, names):
    assert detect_names(text) == names


@pytest.mark.parametrize("stop", STOP_WORDS)
def test_detected_name_ends_before_every_stop_word(stop):
    assert detect_names(f"员工黄明{stop}某事") == ["黄明"]


def test_mask_warning_text_examples():
    assert mask_warning_text("某银行员工黄小明酒后驾车被查处") == "某银行员工黄某酒后驾车被查处"
    assert mask_warning_text("客户经理欧阳娜娜收受客户礼品") == "客户经理欧阳某收受客户礼品"
    assert mask_warning_text("支行长王某某违规操作") == "支行长王某某违规操作"


def test_mask_warning_text_combines_explicit_and_detected_names():
    text = "员工黄小明与同事李四丰一起酒后驾车，李四丰被处罚"
    assert mask_warning_text(text, ["李四丰"]) == "员工黄某与同事李某一起酒后驾车，李某被处罚"
    # jieba tags 李四 (+ 丰) as a person even without the recorded name.
    assert mask_warning_text(text) == "员工黄某与同事李某一起酒后驾车，李某被处罚"


@settings(database=None)
@given(
    person=person_names(),
    before=st.text(alphabet=NOISE_CHARS + GIVEN_CHARS, max_size=15),
    continuation=st.sampled_from(CONTINUATIONS),
    after=st.text(alphabet=NOISE_CHARS + GIVEN_CHARS, max_size=15),
)
def test_detected_names_are_always_masked(person, before, continuation, after):
    surname, full = person
    text = f"{before}员工{full}{continuation}{after}"
    masked = mask_warning_text(text)
    assert full not in masked
    assert surname + "某" in masked


@settings(database=None)
@given(
    person=person_names(),
    before=st.text(alphabet=NOISE_CHARS, max_size=15),
    middle=st.text(alphabet=NOISE_CHARS, max_size=15),
    after=st.text(alphabet=NOISE_CHARS, max_size=15),
)
def test_explicit_names_reveal_nothing_beyond_the_surname(person, before, middle, after):
    surname, full = person
    given_name = full[len(surname) :]
    # The surroundings hold no given-name characters, so any left in the output came from the name.
    assume(not set(given_name) & set(NOISE_CHARS))
    text = f"{before}员工{full}{middle}{full}{after}"
    masked = mask_text(text, [full])
    assert full not in masked
    assert masked.count(mask_name(full)) >= 2
    assert given_name not in masked.replace(mask_name(full), "")


@settings(database=None)
@given(person=person_names())
def test_mask_name_is_idempotent_and_keeps_the_surname(person):
    surname, full = person
    assert mask_name(full) == surname + "某"
    assert mask_name(mask_name(full)) == mask_name(full)
