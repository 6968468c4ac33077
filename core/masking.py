"""Masking of personal names (in warnings, complaints and the public blacklist).

Warnings name the staff involved ("某银行员工黄小明酒后驾车被查处"). Only the finance center may
see those names; everybody else sees the surname followed by 某 ("黄某", "欧阳某"). Everything here
is pure string work with no Django dependency, so views, serializers, exports and Celery tasks can
all share one definition of what "masked" means.

The safe path is to pass the names the finance center recorded with the warning; `detect_names`
only backs that up for names that were typed into the free text and never recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK_CHAR = "某"


def _words(table: str) -> frozenset[str]:
    return frozenset(table.split())


# Matched before the one-character surnames: 欧阳娜娜 is 欧阳 + 娜娜, not 欧 + 阳娜娜. A wrong
# compound reading leaks a given-name character (贺兰芳 as 贺兰某), whereas a missing one only hides
# more (贺某), so obscure entries that clash with a common surname + given-name character (贺兰,
# 贺若, 南荣) are left out. A few traditional spellings are listed for text pasted from elsewhere.
COMPOUND_SURNAMES: frozenset[str] = _words(
    """
    欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫
    西门 申屠 太史 闻人 呼延 澹台 公冶 宗政 濮阳 淳于 单于 赫连 钟离 万俟 司空 百里 东郭 南门
    羊舌 微生 公羊 梁丘 左丘 东门 第五 公良 漆雕 乐正 壤驷 拓跋 拓拔 完颜 段干 巫马 公西 颛孙
    子车 亓官 司寇 仉督 谷梁 宰父 夹谷 鲜于 闾丘 仲孙 叔孙 太叔 即墨 青阳 东里 北宫 南郭 尔朱
    纳兰 叱干 公仪 主父 伯赏 归海 乞伏 秃发 沮渠 达奚 呼衍
    钮祜禄 爱新觉罗 叶赫那拉 乌拉那拉
    歐陽 司馬 諸葛 長孫 鍾離 軒轅 單于 澹臺 萬俟 東方 尉遲 聞人 濮陽 鮮于 閭丘 顓孫
    """
)
_COMPOUND_LENGTHS: tuple[int, ...] = tuple(sorted({len(s) for s in COMPOUND_SURNAMES}, reverse=True))

# Roughly the 300 most common one-character surnames. Rare surnames that are far more often
# ordinary words in bank prose (但, 由, 都, 来, 国, 信, 公, 门, 区 ...) are deliberately left out:
# after a role word they would mostly produce false names such as "员工都要".
SINGLE_SURNAMES: frozenset[str] = frozenset(
    char
    for char in """
    王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏
    魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵
    万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘
    祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟
    艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞
    姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕
    楚鄢劳谌奚皮粟冼蔺楼盘满闻厉伊仝郜阚权强帅屠豆朴盖练廉禹井祖漆巴丰支卿狄平计索宣晋相初容敬
    扈晁芮普阙浦戈伏鹿薄邸雍辜羊裘亓修邰赫杭况宿鲜印逯隆茹诸战慕危玉银亢嵇湛宾戎勾茅揭尉檀衡富
    """
    if not char.isspace()
)

# The brief's list plus 会计师: without it "会计师事务所" reads as 会计 + a person 师事务.
ROLE_WORDS: tuple[str, ...] = (
    "员工", "职工", "客户经理", "柜员", "行长", "副行长", "经理", "主任", "支行长", "科长", "业务员",
    "信贷员", "保险代理人", "代理人", "理财经理", "会计", "会计师", "出纳", "董事长", "总经理", "负责人",
    "工作人员", "人员",
)

# A name ends where one of these begins, and a candidate starting with one is no name at all: the
# surnames 于, 向 and 和 are real, but "员工于近日" and "员工向客户" are far more common than a
# person called 于近日, so such people are only masked when their name is passed explicitly.
STOP_WORDS: tuple[str, ...] = (
    "因", "在", "于", "被", "等", "涉嫌", "违规", "酒", "收受", "利用", "的", "了", "同志", "私自",
    "挪用", "违反", "擅自", "将", "向", "为", "与", "和", "及", "、", "，", "。",
)

# Ordinary words that begin with a surname character and typically follow a role word
# ("员工严重违反", "人员管理制度", "员工凌晨醉驾"). A candidate whose surname and first given
# character form one of these is not treated as a name.
NOT_NAMES: frozenset[str] = _words(
    """
    严重 严格 严肃 严禁 管理 安全 安排 应当 应该 全体 全部 全面 全程 关于 关系 金融 金额 廉洁
    任职 任何 任意 任免 范围 方面 方式 方法 方案 方便 高度 高管 高额 万元 程序 文件 余额 钱款
    钱财 周末 周边 包括 包庇 申请 申报 曾经 曾多 时间 时期 时候 时常 常常 常年 经常 许多 许可
    单位 强行 强制 明显 明知 明确 成功 成为 成本 平时 平台 连续 连同 党员 党纪 党风 车辆 付款
    查处 查询 项目 尚未 谈话 季度 白天 计划 房贷 房产 解除 解决 牟取 游戏 符合 纪律 毕业 章程
    蒙受 左右 凌晨 涂改 农村 农户 司机 晋升 初步 初次 索要 宣传 权力 权限 盖章 支付 容易 普遍
    修改 况且 宿舍 印章 危害 危险 银行 宾馆 勾结 储蓄 劳动 劳务 满意 满足 麻痹 迟到 甄别 商业
    刁难 费用 尤其 顾客 陆续 董事 郑重 何时 何种 胡乱 马上 陈述 张贴 师事 相关 于是
    """
)

# Words after which a name may start; used to choose among the readings of the characters before
# 同志/等人 ("主任王明等人" is 王明, not 任王明).
_LEFT_CONTEXT: tuple[str, ...] = (
    "对", "由", "是", "系", "其中", "同时", "以及", "包括", "发现", "经查", "查实", "通报", "批评", "给予",
    "处分", "处理",
)
_AFTER_NAME_MARKERS: tuple[str, ...] = ("同志", "等人")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_MAX_GIVEN = 2
_MAX_NAME = max(_COMPOUND_LENGTHS) + _MAX_GIVEN
# Longest alternative first, so that at one position 会计师 wins over 会计.
_ROLE_AT = re.compile("(?=(" + "|".join(map(re.escape, sorted(ROLE_WORDS, key=len, reverse=True))) + "))")


def _compound_at(text: str, start: int = 0) -> str:
    for length in _COMPOUND_LENGTHS:
        candidate = text[start : start + length]
        if len(candidate) == length and candidate in COMPOUND_SURNAMES:
            return candidate
    return ""


def surname_of(name: str) -> str:
    """The surname of a Chinese name: a compound surname if the name starts with one."""
    name = name.strip()
    return _compound_at(name) or name[:1]


def mask_name(name: str) -> str:
    """黄小明 → 黄某, 欧阳娜娜 → 欧阳某; an empty name stays empty."""
    name = name.strip()
    if not name:
        return ""
    return surname_of(name) + MASK_CHAR


def _replacements(names: Iterable[str]) -> dict[str, str]:
    replacements: dict[str, str] = {}
    for raw in names:
        name = raw.strip()
        if len(name) < 2:
            continue
        masked = mask_name(name)
        # A bare compound surname (欧阳 → 欧阳某) or an already masked name hides nothing, and
        # replacing 欧阳 inside 欧阳娜娜 would yield 欧阳某娜娜.
        if name in masked:
            continue
        replacements[name] = masked
    return replacements


def mask_text(text: str, names: Iterable[str]) -> str:
    """Replace every occurrence of each name (two characters or more) with its masked form."""
    replacements = _replacements(names)
    if not text or not replacements:
        return text
    # Longest first: at a given position the regex then takes 黄小明 before 黄小. A single pass
    # never rescans its own output, so one name's masked form cannot be rewritten by another name.
    ordered = sorted(replacements, key=lambda name: (-len(name), name))
    pattern = re.compile("|".join(map(re.escape, ordered)))
    return pattern.sub(lambda match: replacements[match.group(0)], text)


def _starts_with_any(text: str, position: int, words: Iterable[str]) -> bool:
    return any(text.startswith(word, position) for word in words)


def _name_at(text: str, start: int) -> str:
    """The name that starts exactly at `start`, or "" if none does."""
    if _starts_with_any(text, start, STOP_WORDS):
        return ""
    surname = _compound_at(text, start)
    if not surname:
        surname = text[start : start + 1]
        if surname not in SINGLE_SURNAMES:
            return ""
    given_start = end = start + len(surname)
    while (
        end - given_start < _MAX_GIVEN
        and end < len(text)
        and _HAN.match(text[end])
        # 某 ends the name so that already masked names (王某某) are never detected.
        and text[end] != MASK_CHAR
        and not _starts_with_any(text, end, STOP_WORDS)
    ):
        end += 1
    if end == given_start:
        return ""
    name = text[start:end]
    if len(surname) == 1 and name[:2] in NOT_NAMES:
        return ""
    return name


def _after_boundary(text: str, position: int) -> bool:
    if position == 0 or not _HAN.match(text[position - 1]):
        return True
    before = text[:position]
    return any(before.endswith(word) for word in (*STOP_WORDS, *ROLE_WORDS, *_LEFT_CONTEXT))


def _name_before(text: str, end: int) -> tuple[int, str] | None:
    """The name that ends exactly at `end` (where 同志 or 等人 starts)."""
    readings = [
        start
        for start in range(max(0, end - _MAX_NAME), end - 1)
        if _name_at(text, start) == text[start:end]
    ]
    if not readings:
        return None
    # Prefer a reading with a clear left edge; otherwise the longest, since a surname character
    # swallowed from the preceding word still hides the name while a truncated name leaks it.
    bounded = [start for start in readings if _after_boundary(text, start)]
    start = (bounded or readings)[0]
    return start, text[start:end]


def detect_names(text: str) -> list[str]:
    """Names written after a role word (员工黄小明) or before 同志/等人, in order of appearance.

    Deliberately conservative: only known surnames followed by one or two Han characters, never a
    name containing 某. It backs up, and does not replace, the names recorded with a warning.
    """
    found: list[tuple[int, str]] = []
    for match in _ROLE_AT.finditer(text):
        start = match.start() + len(match.group(1))
        name = _name_at(text, start)
        if name:
            found.append((start, name))
    for marker in _AFTER_NAME_MARKERS:
        position = text.find(marker)
        while position != -1:
            hit = _name_before(text, position)
            if hit:
                found.append(hit)
            position = text.find(marker, position + 1)
    names: list[str] = []
    for _, name in sorted(found):
        if name not in names:
            names.append(name)
    return names


def mask_warning_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask the given names and every name `detect_names` finds in the text."""
    return mask_text(text, set(names) | set(detect_names(text)))
