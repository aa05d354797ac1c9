"""Vocabularies the simulated world draws from: names, places, products, organisations.

Name conventions (used by every system that renders a name):

- simplified Chinese: surname + given name (1 or 2 characters), e.g. 张伟, 王秀英;
- traditional: the same characters mapped one by one with OpenCC ``s2t`` (HK/Macau branches);
- uppercase pinyin (bank_core, some customers): surname syllable, one space, then the given
  name's syllables joined without a space: 张伟 -> ``ZHANG WEI``, 张晓明 -> ``ZHANG XIAOMING``.
  Tone marks are dropped; ü is written ``V`` (吕 -> ``LV``), as Chinese bank systems do.

Every character here, simplified or traditional, is GBK-encodable (checked by the tests),
because policy_admin delivers GBK.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# (surname, pinyin, relative frequency in %)
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "WANG", 7.1), ("李", "LI", 7.0), ("张", "ZHANG", 6.7), ("刘", "LIU", 5.4),
    ("陈", "CHEN", 4.5), ("杨", "YANG", 3.1), ("黄", "HUANG", 2.2), ("赵", "ZHAO", 2.0),
    ("吴", "WU", 2.0), ("周", "ZHOU", 1.9), ("徐", "XU", 1.3), ("孙", "SUN", 1.3),
    ("马", "MA", 1.1), ("朱", "ZHU", 1.1), ("胡", "HU", 1.0), ("郭", "GUO", 1.0),
    ("何", "HE", 0.9), ("林", "LIN", 0.9), ("高", "GAO", 0.9), ("罗", "LUO", 0.9),
    ("郑", "ZHENG", 0.8), ("梁", "LIANG", 0.8), ("谢", "XIE", 0.6), ("宋", "SONG", 0.6),
    ("唐", "TANG", 0.6), ("许", "XU", 0.5), ("邓", "DENG", 0.5), ("冯", "FENG", 0.5),
    ("韩", "HAN", 0.5), ("曹", "CAO", 0.5), ("曾", "ZENG", 0.5), ("彭", "PENG", 0.5),
    ("萧", "XIAO", 0.4), ("蔡", "CAI", 0.4), ("潘", "PAN", 0.4), ("田", "TIAN", 0.4),
    ("董", "DONG", 0.4), ("袁", "YUAN", 0.4), ("于", "YU", 0.4), ("余", "YU", 0.4),
    ("叶", "YE", 0.4), ("蒋", "JIANG", 0.4), ("杜", "DU", 0.4), ("苏", "SU", 0.3),
    ("魏", "WEI", 0.3), ("程", "CHENG", 0.3), ("吕", "LV", 0.3), ("丁", "DING", 0.3),
    ("沈", "SHEN", 0.3), ("任", "REN", 0.3), ("姚", "YAO", 0.3), ("卢", "LU", 0.3),
    ("傅", "FU", 0.3), ("钟", "ZHONG", 0.3), ("姜", "JIANG", 0.3), ("崔", "CUI", 0.3),
    ("谭", "TAN", 0.3), ("廖", "LIAO", 0.3), ("范", "FAN", 0.3), ("汪", "WANG", 0.3),
    ("陆", "LU", 0.3), ("金", "JIN", 0.3), ("石", "SHI", 0.3), ("戴", "DAI", 0.2),
    ("贾", "JIA", 0.2), ("夏", "XIA", 0.2), ("邱", "QIU", 0.2), ("方", "FANG", 0.2),
    ("侯", "HOU", 0.2), ("邹", "ZOU", 0.2), ("熊", "XIONG", 0.2), ("孟", "MENG", 0.2),
    ("秦", "QIN", 0.2), ("白", "BAI", 0.2), ("江", "JIANG", 0.2), ("薛", "XUE", 0.2),
    ("尹", "YIN", 0.2), ("段", "DUAN", 0.2), ("雷", "LEI", 0.2), ("龙", "LONG", 0.2),
    ("陶", "TAO", 0.2), ("贺", "HE", 0.2), ("顾", "GU", 0.2), ("毛", "MAO", 0.2),
    ("郝", "HAO", 0.2), ("龚", "GONG", 0.2), ("邵", "SHAO", 0.2), ("万", "WAN", 0.2),
    ("钱", "QIAN", 0.2), ("武", "WU", 0.2),
)

# Given-name characters leaning male / female. Homophones (伟/玮/炜, 静/婧, 杰/洁, 琳/林 ...)
# are deliberately present: a homophone typo swaps a character for one with the same pinyin.
GIVEN_MALE = tuple("伟强磊军勇杰涛斌明超刚平辉鹏华飞鑫波宁浩宇轩俊峰建国海龙亮成东文博志晨阳凯睿子然泽航铭昊炜玮钢锋彬君韬洋健")
GIVEN_FEMALE = tuple("芳娜敏静丽艳娟霞燕玲婷秀英慧萍红梅琳雪倩颖欣佳怡思涵萱雨晓莉洁婧莹琪蕾玉兰桂月芸悦诗梦嘉馨瑶琦薇林")

# Very common full names, each shared by many distinct people (gender: 0 male, 1 female).
COMMON_NAMES: tuple[tuple[str, str, int], ...] = (
    ("张", "伟", 0), ("王", "伟", 0), ("李", "伟", 0), ("刘", "伟", 0), ("王", "芳", 1),
    ("李", "娜", 1), ("张", "敏", 1), ("李", "静", 1), ("王", "静", 1), ("王", "秀英", 1),
    ("李", "秀英", 1), ("张", "丽", 1), ("王", "丽", 1), ("李", "强", 0), ("王", "磊", 0),
    ("刘", "洋", 0), ("张", "勇", 0), ("王", "勇", 0), ("张", "静", 1), ("李", "军", 0),
)

# City -> (branch code, resident-ID area codes, weight). HK/MO branches hold traditional names.
CITIES: tuple[tuple[str, str, tuple[int, ...], float], ...] = (
    ("北京", "BJ01", (110101, 110102, 110105, 110106, 110108), 12.0),
    ("上海", "SH01", (310101, 310104, 310105, 310115), 12.0),
    ("广州", "GZ01", (440103, 440104, 440106), 8.0),
    ("深圳", "SZ01", (440303, 440304, 440305), 8.0),
    ("杭州", "HZ01", (330102, 330105, 330106), 6.0),
    ("成都", "CD01", (510104, 510105, 510107), 6.0),
    ("武汉", "WH01", (420102, 420103, 420106), 5.0),
    ("南京", "NJ01", (320102, 320104, 320106), 5.0),
    ("西安", "XA01", (610102, 610103, 610113), 4.0),
    ("重庆", "CQ01", (500103, 500105, 500106), 5.0),
    ("郑州", "ZZ01", (410102, 410103, 410105), 4.0),
    ("济南", "JN01", (370102, 370103, 370105), 3.0),
    ("长沙", "CS01", (430102, 430103, 430104), 3.0),
    ("福州", "FZ01", (350102, 350103, 350104), 3.0),
    ("沈阳", "SY01", (210102, 210103, 210104), 3.0),
    ("石家庄", "SJ01", (130102, 130104, 130105), 3.0),
    ("香港", "HK01", (810000,), 1.6),
    ("澳门", "MO01", (820000,), 0.6),
)
HKMO_BRANCHES = ("HK01", "MO01")

# Products: code, product_line, term kind, premium low/high (yuan), payment_freq weights
# (annual, semiannual, quarterly, monthly, single), cash value (can be surrendered), weight.
# term kinds: renew1y (one-year, renewable), term20, term30, whole (no expiry), annuity (to 75)
PAYMENT_FREQS = ("annual", "semiannual", "quarterly", "monthly", "single")
FREQ_MONTHS = (12, 6, 3, 1, 0)


@dataclass(frozen=True)
class Product:
    code: str
    line: str
    term: str
    premium_low: float
    premium_high: float
    freq_weights: tuple[float, float, float, float, float]
    cash_value: bool
    weight: float
    group: bool = False


PRODUCTS: tuple[Product, ...] = (
    Product("HLT01", "health", "renew1y", 300, 3000, (0.8, 0, 0, 0.2, 0), False, 24),
    Product("HLT02", "health", "renew1y", 5000, 30000, (1, 0, 0, 0, 0), False, 3),
    Product("CI01", "health", "term30", 3000, 20000, (0.8, 0.05, 0.05, 0.1, 0), True, 16),
    Product("ACC01", "accident", "renew1y", 100, 800, (1, 0, 0, 0, 0), False, 14),
    Product("LIF01", "life", "term20", 800, 6000, (0.9, 0, 0, 0.1, 0), False, 10),
    Product("LIF02", "life", "whole", 5000, 50000, (0.6, 0.1, 0.1, 0.1, 0.1), True, 10),
    Product("ANN01", "annuity", "annuity", 10000, 100000, (0.6, 0, 0, 0, 0.4), True, 8),
    Product("PRP01", "property", "renew1y", 200, 1500, (1, 0, 0, 0, 0), False, 8),
    Product("GRP01", "health", "renew1y", 800, 3000, (1, 0, 0, 0, 0), False, 0, group=True),
    Product("GRP02", "accident", "renew1y", 100, 500, (1, 0, 0, 0, 0), False, 0, group=True),
)

CHANNELS = ("agent", "bancassurance", "online", "telesales", "group")
CHANNEL_WEIGHTS = (0.55, 0.15, 0.18, 0.12, 0.0)

ENTERPRISE_PREFIX = tuple("华信宏达恒盛鑫源金泰永安瑞丰天成中科新星东方嘉禾博远汇通")
ENTERPRISE_INDUSTRY = ("科技", "贸易", "实业", "建设", "物流", "餐饮", "制造", "信息技术", "医药", "电子")
ENTERPRISE_SUFFIX = ("有限公司", "股份有限公司", "集团有限公司")

NICKNAMES = ("阳光", "小鱼", "静待花开", "Lily", "Tony", "平安是福", "大海", "微笑", "A宝妈",
             "老王", "Sunny", "向日葵", "慢慢来", "Kevin", "清风", "知足常乐", "小雨", "Jason")
TICKET_SUMMARIES = {
    "inquiry": ("咨询保单条款", "查询缴费记录", "咨询保障范围"),
    "complaint": ("投诉理赔时效慢", "投诉扣费有误", "投诉服务态度", "投诉代理人失联"),
    "claim_status": ("查询理赔进度", "补充理赔材料"),
    "policy_change": ("变更联系电话", "变更银行账户", "变更受益人"),
    "surrender_request": ("申请退保", "咨询退保金额", "要求退保"),
    "renewal": ("咨询续保", "续保保费上涨咨询"),
}


@dataclass(frozen=True)
class NameVocab:
    """Character vocabularies as aligned numpy arrays (index -> simplified/traditional/pinyin)."""

    surname: np.ndarray
    surname_trad: np.ndarray
    surname_pinyin: np.ndarray
    surname_p: np.ndarray
    given: np.ndarray  # the last entry is "" (no second given character)
    given_trad: np.ndarray
    given_pinyin: np.ndarray
    given_male: np.ndarray  # indices into `given`
    given_female: np.ndarray
    homophone: np.ndarray  # given index -> a different index with the same pinyin (or itself)
    common: tuple[tuple[int, int, int, int], ...]  # (surname idx, g1, g2, gender)

    @property
    def empty_given(self) -> int:
        return len(self.given) - 1


@lru_cache(maxsize=1)
def name_vocab() -> NameVocab:
    import opencc
    from pypinyin import Style, lazy_pinyin

    s2t = opencc.OpenCC("s2t")

    def trad(ch: str) -> str:
        t = s2t.convert(ch)
        return t if len(t) == 1 else ch

    given = list(dict.fromkeys(GIVEN_MALE + GIVEN_FEMALE))
    index = {c: i for i, c in enumerate(given)}
    given_py = [lazy_pinyin(c, style=Style.NORMAL, v_to_u=False)[0].upper() for c in given]
    homophone = np.arange(len(given) + 1)
    by_py: dict[str, list[int]] = {}
    for i, p in enumerate(given_py):
        by_py.setdefault(p, []).append(i)
    for members in by_py.values():
        for k, i in enumerate(members):
            homophone[i] = members[(k + 1) % len(members)]
    surnames = [s for s, _, _ in SURNAMES]
    sidx = {s: i for i, s in enumerate(surnames)}
    p = np.array([w for _, _, w in SURNAMES], dtype=float)
    common = []
    for s, g, gender in COMMON_NAMES:
        g1 = index[g[0]]
        g2 = index[g[1]] if len(g) > 1 else len(given)
        common.append((sidx[s], g1, g2, gender))
    return NameVocab(
        surname=np.array(surnames),
        surname_trad=np.array([trad(s) for s in surnames]),
        surname_pinyin=np.array([py for _, py, _ in SURNAMES]),
        surname_p=p / p.sum(),
        given=np.array(given + [""]),
        given_trad=np.array([trad(c) for c in given] + [""]),
        given_pinyin=np.array(given_py + [""]),
        given_male=np.array([index[c] for c in dict.fromkeys(GIVEN_MALE)]),
        given_female=np.array([index[c] for c in dict.fromkeys(GIVEN_FEMALE)]),
        homophone=homophone,
        common=tuple(common),
    )
