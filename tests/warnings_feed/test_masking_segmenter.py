"""Masking with jieba's tagger, the registry, traditional characters and nicknames (issue #11, item 3).

Each phrasing below leaked the name before: only "role word + name" and "name + 同志/等人" were read.
"""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import masking
from core.masking import (
    TRADITIONAL_TO_SIMPLIFIED,
    detect_names,
    mask_text,
    mask_warning_text,
    to_simplified,
)

from .test_masking import CONTINUATIONS, person_names


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("黄小明收受礼金", "黄某收受礼金"),
        ("经查，黄小明违规放贷", "经查，黄某违规放贷"),
        ("违规人员：黄小明", "违规人员：黄某"),
        ("违规人员:黄小明", "违规人员:黄某"),
        ("员工 黄小明", "员工 黄某"),
        ("员工\u3000黄小明因酒驾被查处", "员工\u3000黄某因酒驾被查处"),
        ("当事人：欧阳娜娜", "当事人：欧阳某"),
        ("当事人：歐陽娜娜", "当事人：歐陽某"),
        ("黃小明", "黃某"),
        ("黃小明收受礼金", "黃某收受礼金"),
        ("某银行员工黃小明酒后驾车被查处", "某银行员工黃某酒后驾车被查处"),
        ("柜员小张", "柜员张某"),
        ("柜员小张违规办理业务", "柜员张某违规办理业务"),
        ("行长老李", "行长李某"),
        ("老王违规操作", "王某违规操作"),
        ("王芳、李娜被处分", "王某、李某被处分"),
        ("李强被给予降级处分，支行长王建国负有管理责任", "李某被给予降级处分，支行长王某负有管理责任"),
    ],
)
def test_phrasings_that_leaked_are_masked(text, masked):
    assert mask_warning_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "黄岩农商行开展廉洁教育",
        "台州银行黄岩支行",
        "路桥区",
        "路桥支行",
        "椒江区金融工作中心",
        "黄金价格上涨",
        "张贴公告",
        "营业网点张贴廉洁提示",
        "请全体金融从业人员严守中央八项规定精神",
        "催收时言语不文明。",
        "阳光财险",
        "安邦人寿",
        "演示宁行",
        "路桥演示金桥小额贷款公司",
        "员工小时工资",
        "柜员小额贷款业务",
        "某银行开展反洗钱培训，员工积极参加。",
        "支行长王某某违规操作",
    ],
)
def test_places_institutions_and_words_are_not_names(text):
    assert detect_names(text) == []
    assert mask_warning_text(text) == text


def test_traditional_names_given_in_simplified_are_masked():
    assert mask_text("黃小明酒后驾车，陳偉知情", ["黄小明", "陈伟"]) == "黃某酒后驾车，陳某知情"
    assert mask_text("黄小明与黃小明", ["黃小明"]) == "黄某与黃某"


def test_traditional_table_maps_one_character_to_one():
    assert all(len(k) == len(v) == 1 and k != v for k, v in TRADITIONAL_TO_SIMPLIFIED.items())
    for traditional, simplified in {"黃": "黄", "張": "张", "陳": "陈", "劉": "刘", "趙": "赵", "吳": "吴",
                                    "孫": "孙", "鄭": "郑", "馮": "冯", "鄧": "邓", "蕭": "萧", "許": "许",
                                    "葉": "叶", "楊": "杨", "鍾": "钟", "盧": "卢"}.items():
        assert TRADITIONAL_TO_SIMPLIFIED[traditional] == simplified
    assert to_simplified("黃小明") == "黄小明"


def test_registry_names_are_masked_even_where_nothing_points_at_them():
    text = "经核实，该笔贷款由任重远经办"
    assert mask_text(text, [], registry=["任重远"]) == "经核实，该笔贷款由任某经办"
    assert mask_warning_text(text, registry=["任重远"]) == "经核实，该笔贷款由任某经办"


def test_registry_names_that_are_ordinary_words_are_not_masked_everywhere():
    # An employee called 黄金 is masked where a role word or the warning's own list points at them.
    assert mask_text("黄金价格上涨", [], registry=["黄金"]) == "黄金价格上涨"
    assert mask_warning_text("员工黄金违规", registry=["黄金"]) == "员工黄某违规"
    assert mask_text("黄金价格上涨", ["黄金"]) == "黄某价格上涨"


def test_a_nickname_keeps_only_the_surname():
    # 小张 and 张某 both say the surname only; the masked form is the portal's one form.
    assert mask_text("柜员小张称", ["小张"]) == "柜员张某称"
    assert detect_names("柜员小张") == ["小张"]
    assert detect_names("员工小时工资") == []


def test_the_segmenter_is_loaded_once_and_lazily():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, core.masking; print('jieba' in sys.modules)"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert loaded.stdout.strip() == "False"

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(masking._segmenter())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in seen}) == 1


TRADITIONAL_OF = {simplified: traditional for traditional, simplified in TRADITIONAL_TO_SIMPLIFIED.items()}


@settings(database=None, deadline=None)
@given(person=person_names(), continuation=st.sampled_from(CONTINUATIONS))
def test_traditional_spellings_are_masked_like_simplified_ones(person, continuation):
    surname, full = person
    assume(all(c in TRADITIONAL_OF for c in surname))
    traditional_surname = "".join(TRADITIONAL_OF[c] for c in surname)
    written = traditional_surname + full[len(surname):]
    masked = mask_warning_text(f"某银行员工{written}{continuation}")
    assert written not in masked
    assert traditional_surname + "某" in masked
    # Recorded in simplified, written in traditional: still masked.
    assert written not in mask_text(f"据查{written}{continuation}", [full])


@settings(database=None, deadline=None)
@given(person=person_names(), continuation=st.sampled_from(CONTINUATIONS))
def test_registry_names_are_always_masked(person, continuation):
    surname, full = person
    masked = mask_text(f"经核实{full}{continuation}", [], registry=[full])
    if to_simplified(full) in masking.NOT_NAMES | masking.SEGMENTER_NOT_NAMES | masking.NOT_NICKNAMES:
        return
    assert full not in masked
    assert surname + "某" in masked


def test_a_web_worker_loads_the_segmenter_when_it_starts():
    started = subprocess.run(
        [sys.executable, "-c", "import config.wsgi, core.masking as m; print(m._segmenter_instance is not None)"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert started.stdout.strip().endswith("True")
