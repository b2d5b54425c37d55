"""Domain: the code lists behind the forms' dropdowns (issue 19: dropdowns are enumerations).

A section stores the Chinese name, not the numeric code: the name is what the manual's screens show and what
the reviewers read; the codes are kept here for anyone who must export by code.

- 民族: GB/T 3304-1991 《中国各民族名称的罗马字母拼写法和代码》, its 56 groups (01–56) and the two further
  codes 97 其他 and 98 外国血统中国籍人士. No other entry (e.g. 穿青人, which is not one of the standard's codes).
- 国籍: GB/T 2659 (= ISO 3166-1), every country and region, named in Chinese. The list comes from `pycountry`
  (its zh_CN translation of the ISO 3166-1 names, the common name where it has one), corrected where that
  translation is not the mainland standard name (see `_NAME_FIXES`); 中国 comes first.
- 政治面貌: GB/T 4762-1984 《政治面貌代码》, its full names (the forms' short forms — 中共党员, 共青团员,
  民革会员 … — are not accepted: a stored value is the standard's name). Code 12 is the standard's
  无党派民主人士 (often shortened to 无党派人士 or 无党派).
- 行政职务级别: the ten leadership post levels of 《中华人民共和国公务员法》(2018) 第十九条 (国家级正职 …
  乡科级副职), then 科员 and 办事员 (the levels below them in the 2005 law's 第十六条, still used by units'
  forms), and 无 for an applicant with no administrative post.
- 学历: the levels of GB/T 4658-2006 that a title application distinguishes, highest first (the same set as the
  domain's EDUCATION_RANK, which 初定's eligibility table reads).
- 学制: a programme's nominal length in whole years, 1 to 8 (大学专科 2–3, 大学本科 4–5, 硕士 2–3,
  博士 3–4; 本硕博连读 up to 8). The section keeps an integer; a form draws these as its options.
- 考核结果: the annual assessment grades: 事业单位 (优秀, 合格, 基本合格, 不合格) and 公务员 (优秀, 称职,
  基本称职, 不称职)."""

from __future__ import annotations

import gettext

import pycountry

ETHNIC_GROUPS: dict[str, str] = {
    "01": "汉族", "02": "蒙古族", "03": "回族", "04": "藏族", "05": "维吾尔族", "06": "苗族", "07": "彝族",
    "08": "壮族", "09": "布依族", "10": "朝鲜族", "11": "满族", "12": "侗族", "13": "瑶族", "14": "白族",
    "15": "土家族", "16": "哈尼族", "17": "哈萨克族", "18": "傣族", "19": "黎族", "20": "傈僳族", "21": "佤族",
    "22": "畲族", "23": "高山族", "24": "拉祜族", "25": "水族", "26": "东乡族", "27": "纳西族", "28": "景颇族",
    "29": "柯尔克孜族", "30": "土族", "31": "达斡尔族", "32": "仫佬族", "33": "羌族", "34": "布朗族",
    "35": "撒拉族", "36": "毛南族", "37": "仡佬族", "38": "锡伯族", "39": "阿昌族", "40": "普米族",
    "41": "塔吉克族", "42": "怒族", "43": "乌孜别克族", "44": "俄罗斯族", "45": "鄂温克族", "46": "德昂族",
    "47": "保安族", "48": "裕固族", "49": "京族", "50": "塔塔尔族", "51": "独龙族", "52": "鄂伦春族",
    "53": "赫哲族", "54": "门巴族", "55": "珞巴族", "56": "基诺族",
    "97": "其他", "98": "外国血统中国籍人士",
}  # fmt: skip
"""GB/T 3304-1991: code -> name."""

POLITICAL_AFFILIATIONS: dict[str, str] = {
    "01": "中国共产党党员",
    "02": "中国共产党预备党员",
    "03": "中国共产主义青年团团员",
    "04": "中国国民党革命委员会会员",
    "05": "中国民主同盟盟员",
    "06": "中国民主建国会会员",
    "07": "中国民主促进会会员",
    "08": "中国农工民主党党员",
    "09": "中国致公党党员",
    "10": "九三学社社员",
    "11": "台湾民主自治同盟盟员",
    "12": "无党派民主人士",
    "13": "群众",
}
"""GB/T 4762-1984: code -> name."""

ADMIN_POST_LEVELS: tuple[str, ...] = (
    "国家级正职",
    "国家级副职",
    "省部级正职",
    "省部级副职",
    "厅局级正职",
    "厅局级副职",
    "县处级正职",
    "县处级副职",
    "乡科级正职",
    "乡科级副职",
    "科员",
    "办事员",
    "无",
)

EDUCATION_LEVELS: tuple[str, ...] = ("博士研究生", "硕士研究生", "大学本科", "大学专科", "中等专科", "高中", "其他")

SCHOOLING_YEARS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)

ASSESSMENT_RESULTS: tuple[str, ...] = ("优秀", "合格", "称职", "基本合格", "基本称职", "不合格", "不称职")

# ISO 3166-1 alpha-2 -> the mainland's standard name, where pycountry's zh_CN text differs from it (a typo, a
# Taiwan-usage transliteration, or a name that does not say the region is part of China)
_NAME_FIXES: dict[str, str] = {
    "CN": "中国",
    "TW": "中国台湾",
    "HK": "中国香港",
    "MO": "中国澳门",
    "KH": "柬埔寨",
    "MT": "马耳他",
    "GT": "危地马拉",
    "BO": "玻利维亚",
    "PF": "法属波利尼西亚",
    "KG": "吉尔吉斯斯坦",
    "BD": "孟加拉国",
}


def _countries() -> dict[str, str]:
    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    names: dict[str, str] = {}
    for country in sorted(pycountry.countries, key=lambda c: str(c.alpha_2)):
        alpha_2 = str(country.alpha_2)
        common = getattr(country, "common_name", None)
        names[alpha_2] = _NAME_FIXES.get(alpha_2) or zh.gettext(str(common or country.name))
    return {"CN": names.pop("CN"), **names}


COUNTRIES: dict[str, str] = _countries()
"""GB/T 2659 / ISO 3166-1: alpha-2 code -> Chinese name, 中国 first, then by code."""

ETHNICITIES: tuple[str, ...] = tuple(ETHNIC_GROUPS.values())
NATIONALITIES: tuple[str, ...] = tuple(COUNTRIES.values())
POLITICAL_STATUSES: tuple[str, ...] = tuple(POLITICAL_AFFILIATIONS.values())
