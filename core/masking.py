"""Masking of personal names (in warnings, complaints and the public blacklist).

Warnings name the staff involved ("某银行员工黄小明酒后驾车被查处"). Only the finance center may
see those names; everybody else sees the surname followed by 某 ("黄某", "欧阳某"). Everything here
is pure string work with no Django dependency, so views, serializers, exports and Celery tasks can
all share one definition of what "masked" means.

The safe path is to pass the names the finance center recorded with the warning (and the employee
registry's names of the institutions concerned, `registry=`); `detect_names` backs that up for names
typed into the free text and never recorded: jieba's part-of-speech tagger (`nr`, loaded once,
lazily), role words (员工黄小明, 违规人员：黄小明), 同志/等人, nicknames after a role word (柜员小张 →
柜员张某), compound surnames and traditional spellings (黃小明 → 黃某). docs/security.md says what it
guarantees and what it does not.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

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
    "工作人员", "人员", "当事人", "涉事人", "责任人", "营业员",
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

# A name may follow a role word after a space or a colon ("违规人员：黄小明", "员工 黄小明").
_ROLE_SEPARATORS = " \u3000\t:："

# Traditional spellings of the common surnames (and of the characters of the compound surnames), mapped
# one character to one character so that detection can run on a simplified copy whose positions are the
# original's: 黃小明 is found as 黄小明 and masked as 黃某. A few common given-name characters are listed
# too, so that a name recorded in simplified characters also masks its traditional spelling.
TRADITIONAL_TO_SIMPLIFIED: dict[str, str] = dict(
    _words(
        """
        黃黄 張张 陳陈 劉刘 趙赵 吳吴 孫孙 鄭郑 馮冯 鄧邓 蕭萧 許许 葉叶 楊杨 鍾钟 盧卢 馬马 羅罗 謝谢 韓韩
        蔣蒋 蘇苏 呂吕 譚谭 陸陆 賈贾 韋韦 鄒邹 閆闫 龍龙 賀贺 顧顾 龔龚 萬万 錢钱 嚴严 湯汤 溫温 齊齐 喬乔
        龐庞 顏颜 莊庄 聶聂 魯鲁 歐欧 關关 蘭兰 寧宁 紀纪 畢毕 單单 塗涂 駱骆 藍蓝 鮑鲍 華华 饒饶 陽阳 時时
        農农 繆缪 簡简 車车 項项 連连 蘆芦 麥麦 婁娄 竇窦 黨党 宮宫 費费 衛卫 應应 閔闵 鄔邬 邊边 師师 欒栾
        榮荣 叢丛 鞏巩 遲迟 鄺邝 談谈 荊荆 樂乐 儲储 勞劳 諶谌 藺蔺 樓楼 盤盘 滿满 聞闻 厲厉 於于 餘余 範范
        諸诸 長长 離离 軒轩 轅辕 臺台 東东 鮮鲜 閭闾 顓颛
        偉伟 國国 軍军 紅红 麗丽 傑杰 濤涛 強强 剛刚 輝辉 鵬鹏 鳳凤 寶宝 靜静 穎颖 銘铭 豐丰 雲云 瑩莹
        貴贵 義义 歡欢 興兴 廣广 飛飞 聰聪 儀仪 潔洁 詩诗 愛爱 誠诚 騰腾 嬌娇 婭娅
        """
    )
)
_TO_SIMPLIFIED = str.maketrans(TRADITIONAL_TO_SIMPLIFIED)


def to_simplified(text: str) -> str:
    """The text with the listed traditional characters simplified; always the same length."""
    return text.translate(_TO_SIMPLIFIED)


# Words the tagger reads as a person but that are places of the installation's districts, or ordinary
# words starting with a surname character ("黄岩农商行" is 黄岩 + 农商行, "张贴公告"). Only the tagger's
# readings are checked against them: after a role word (员工黄岩) they are still read as names.
SEGMENTER_NOT_NAMES: frozenset[str] = _words(
    """
    台州 椒江 黄岩 路桥 临海 温岭 玉环 天台 仙居 三门 杭州 宁波 温州 金华 黄金 张贴 高新 金台 黄色
    阳光 文明 方正 常青 白云
    """
)
# A tagged "name" directly followed by one of these is an institution or a place (黄岩支行, 路桥区).
_PLACE_SUFFIXES: tuple[str, ...] = (
    "农商", "银行", "支行", "分行", "信用社", "农信", "村镇", "保险", "证券", "分理处", "营业部", "网点",
    "区", "县", "市", "镇", "乡", "街道", "路", "村", "港", "湾", "人寿", "财险", "生命", "小额", "贷款", "公司",
    "集团", "控股", "基金", "信托",
)

# 小张, 老王: a surname with 小/老 before it names one person as surely as 张某 would, so it is masked
# to 张某 (the surname only, like every other masked name). These dictionary words are not nicknames.
NOT_NICKNAMES: frozenset[str] = _words(
    """
    小时 小于 小麦 小康 小孔 小路 小米 小牛 小车 小楼 小农 小包 小费 小曲 小钱 小房 小商 小金 小盘
    小班 小原 小豆 小解 小池 小井 小巴 小宫 小苗 小石 小熊 小项 小许 小毛 小童 小计 小组 小区 小额
    小微 小贷 小心 小学 小姐 老师 老练 老成 老农 老井 老路 老家 老乡 老年 老龄 老化 老旧 老实 老总
    """
)
_NICKNAME_PREFIXES = "小老"
_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})

_segmenter_instance = None
_segmenter_lock = threading.Lock()


def _segmenter():
    """jieba's part-of-speech tokenizer, built once per process on first use (thread-safe).

    Importing jieba takes about 0.3 s and building its prefix dictionary about 0.5 s (cached in the
    temp directory; the dictionary ships in the package, nothing is downloaded). `warm_up` lets a
    server pay that before its first request.
    """
    global _segmenter_instance
    if _segmenter_instance is None:
        with _segmenter_lock:
            if _segmenter_instance is None:
                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _segmenter_instance = jieba.posseg.POSTokenizer(tokenizer)
    return _segmenter_instance


def _ordinary_word(word: str) -> bool:
    """A word jieba's dictionary knows as something else (严守, 程序), or as a name so common as a word
    that its `nr` tag misleads (文明, 阳光: "言语不文明" names nobody)."""
    segmenter = _segmenter()
    frequency = segmenter.tokenizer.FREQ.get(word) or 0
    return frequency >= (1000 if segmenter.word_tag_tab.get(word) in _PERSON_TAGS else 20)


def warm_up() -> None:
    """Load the segmenter now (a server's start-up) rather than in the first request that masks."""
    _segmenter()

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_MAX_GIVEN = 2
_MAX_NAME = max(_COMPOUND_LENGTHS) + _MAX_GIVEN
# Longest alternative first, so that at one position 会计师 wins over 会计.
_ROLE_AT = re.compile("(?=(" + "|".join(map(re.escape, sorted(ROLE_WORDS, key=len, reverse=True))) + "))")


def _compound_at(text: str, start: int = 0) -> str:
    for length in _COMPOUND_LENGTHS:
        candidate = text[start : start + length]
        if len(candidate) == length and to_simplified(candidate) in COMPOUND_SURNAMES:
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


def _nickname_surname(name: str) -> str:
    """张 for 小张 / 老张 (a nickname), "" for anything else."""
    simplified = to_simplified(name)
    if (
        len(name) == 2
        and name[0] in _NICKNAME_PREFIXES
        and simplified[1] in SINGLE_SURNAMES
        and simplified not in NOT_NICKNAMES
    ):
        return name[1]
    return ""


def _masked(name: str) -> str:
    """柜员小张 → 张某 (the surname only, as for every masked name); otherwise `mask_name`."""
    nickname_of = _nickname_surname(name)
    return nickname_of + MASK_CHAR if nickname_of else mask_name(name)


def _replacements(names: Iterable[str]) -> set[str]:
    """The names to replace, simplified (detection and matching run on a simplified copy)."""
    replacements: set[str] = set()
    for raw in names:
        name = raw.strip()
        if len(name) < 2:
            continue
        # A bare compound surname (欧阳 → 欧阳某) or an already masked name hides nothing, and
        # replacing 欧阳 inside 欧阳娜娜 would yield 欧阳某娜娜.
        if name in _masked(name):
            continue
        replacements.add(to_simplified(name))
    return replacements


def _registry_names(names: Iterable[str], simplified_text: str) -> set[str]:
    """Registry names in the text that are not also ordinary words or places (an employee called 黄金
    is masked only where a role word or the warning's own names point at them, not in 黄金价格). A
    district's registry runs to thousands of names: only those in the text make the pattern."""
    found = set()
    for raw in names:
        name = to_simplified(raw.strip())
        if name and name in simplified_text and name not in NOT_NAMES | SEGMENTER_NOT_NAMES | NOT_NICKNAMES:
            found.add(raw.strip())
    return found


@lru_cache(maxsize=256)
def _pattern(names: frozenset[str]) -> re.Pattern[str]:
    # Longest first: at a given position the regex then takes 黄小明 before 黄小.
    ordered = sorted(names, key=lambda name: (-len(name), name))
    return re.compile("|".join(map(re.escape, ordered)))


def mask_text(text: str, names: Iterable[str], registry: Iterable[str] = ()) -> str:
    """Replace every occurrence of each name (two characters or more) with its masked form.

    `names` are masked wherever they occur (the warning's own list); `registry` (the employee
    registry's names of the institutions concerned) too, except names that are also ordinary words.
    Matching ignores traditional/simplified differences of the listed characters (黃小明 for 黄小明);
    the masked form keeps the text's own spelling of the surname (黃某).
    """
    simplified = to_simplified(text or "")
    replacements = _replacements([*names, *_registry_names(registry, simplified)])
    if not text or not replacements:
        return text
    # A single pass never rescans its own output, so one name's masked form cannot be rewritten by
    # another name.
    pieces: list[str] = []
    position = 0
    for match in _pattern(frozenset(replacements)).finditer(simplified):
        pieces += [text[position : match.start()], _masked(text[match.start() : match.end()])]
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


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


@lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple[tuple[int, str, str], ...]:
    """jieba's (position, word, part-of-speech tag) for a text."""
    tokens: list[tuple[int, str, str]] = []
    position = 0
    for pair in _segmenter().cut(text):
        start = text.find(pair.word, position)
        if start == -1:
            continue
        tokens.append((start, pair.word, pair.flag))
        position = start + len(pair.word)
    return tuple(tokens)


def _cuts_a_word(text: str, start: int, name: str) -> bool:
    """A role-word reading that starts with an ordinary word and ends inside the next one:
    人员严守中央 is 严守 + 中央, not a person called 严守中."""
    end = start + len(name)
    if _compound_at(name):
        return False
    if not any(token_start < end < token_start + len(word) for token_start, word, _ in _tokens(text)):
        return False
    segmenter = _segmenter()
    head = to_simplified(name[:2])
    return segmenter.word_tag_tab.get(head) not in _PERSON_TAGS and (segmenter.tokenizer.FREQ.get(head) or 0) >= 20


@lru_cache(maxsize=1024)
def _tagged_names(text: str) -> tuple[tuple[int, str], ...]:
    """(position, name) of the persons jieba tags (`nr`, `nrfg`, `nrt`) in a simplified text.

    A reading counts only if it starts with a known surname and has one or two given-name characters
    (or is a nickname, 老王), is not a place or ordinary word (黄岩, 张贴), and is not followed by an
    institution or place suffix (黄岩支行). jieba splits some names: 欧阳 + 娜娜 and 李四 + 丰 are joined.
    """
    tokens = _tokens(text)
    found: list[tuple[int, str]] = []
    for index, (start, word, flag) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        adjacent = following is not None and following[0] == start + len(word)
        name = ""
        if word in COMPOUND_SURNAMES and adjacent and following[2] in _PERSON_TAGS:
            if 1 <= len(following[1]) <= _MAX_GIVEN and all(_HAN.match(c) for c in following[1]):
                name = word + following[1]
        elif flag in _PERSON_TAGS:
            if _nickname_surname(word):
                name = word
            else:
                surname = _compound_at(word) or (word[:1] if word[:1] in SINGLE_SURNAMES else "")
                given = len(word) - len(surname)
                if surname and 1 <= given <= _MAX_GIVEN:
                    name = word
                    if (given == 1 and adjacent and following[2] in _PERSON_TAGS and len(following[1]) == 1
                            and _HAN.match(following[1]) and following[1] not in STOP_WORDS):
                        name = word + following[1]
        if (
            not name
            or MASK_CHAR in name
            or not all(_HAN.match(c) for c in name)
            or name[:2] in SEGMENTER_NOT_NAMES
            or (not _compound_at(name) and name[:2] in NOT_NAMES)
            # 宁行, 杭行: banks' short names.
            or (len(name) == 2 and name.endswith("行"))
            or (not _nickname_surname(name) and (_ordinary_word(name)
                                                 or (not _compound_at(name) and _ordinary_word(name[:2]))))
            or _starts_with_any(text, start + len(name), _PLACE_SUFFIXES)
        ):
            continue
        found.append((start, name))
    return tuple(found)


def _role_names(text: str) -> list[tuple[int, str]]:
    """Names right after a role word, also after a space or colon: 员工黄小明, 违规人员：黄小明, 柜员小张."""
    found: list[tuple[int, str]] = []
    for match in _ROLE_AT.finditer(text):
        start = match.start() + len(match.group(1))
        while start < len(text) and start - match.end() < 2 and text[start] in _ROLE_SEPARATORS:
            start += 1
        name = _name_at(text, start)
        if not name and _nickname_surname(text[start : start + 2]):
            name = text[start : start + 2]
        if name:
            found.append((start, name))
    return found


def detect_names(text: str) -> list[str]:
    """Names in free text, in order of appearance, as written (黃小明 stays 黃小明).

    Found by jieba's part-of-speech tags, after a role word (员工黄小明, 当事人：欧阳娜娜, 柜员小张) and
    before 同志/等人; only known surnames followed by one or two Han characters (or 小/老 + surname),
    never a name containing 某. It backs up, and does not replace, the names recorded with a warning.
    """
    simplified = to_simplified(text)
    has_han = any(_HAN.match(c) for c in simplified)
    found = [(start, name) for start, name in _role_names(simplified)
             if not (has_han and _cuts_a_word(simplified, start, name))]
    for marker in _AFTER_NAME_MARKERS:
        position = simplified.find(marker)
        while position != -1:
            hit = _name_before(simplified, position)
            if hit:
                found.append(hit)
            position = simplified.find(marker, position + 1)
    if has_han:
        found += _tagged_names(simplified)
    names: list[str] = []
    for start, name in sorted(found):
        original = text[start : start + len(name)]
        if original not in names:
            names.append(original)
    return names


def mask_warning_text(text: str, names: Iterable[str] = (), registry: Iterable[str] = ()) -> str:
    """Mask the given names, the registry's (see `mask_text`) and every name `detect_names` finds."""
    return mask_text(text, set(names) | set(detect_names(text)), registry)
