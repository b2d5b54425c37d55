"""Demo users of every role for the development login (`ZC_ENV=dev` only). Fictitious people.

Scope ids are the demo organisations' stable ids; the applications service's demo data uses the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity_bridge.domain.identity import ExternalIdentity, Grant

DEV_ISSUER = "urn:zhicheng:dev-login"

DEMO_UNIT = "0193a1f0-0000-7000-8000-00000000a001"  # 成都市示例农业科技有限公司
DEMO_DEPARTMENT = "0193a1f0-0000-7000-8000-00000000d001"  # 成都市农业农村局
DEMO_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"  # 成都市农业系列中级评委会
DEMO_DEPARTMENT_2 = "0193a1f0-0000-7000-8000-00000000d002"  # the next level of the demo unit's chain
DEMO_ENTRUSTED_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c011"  # 乐山: 委托评审 for the Chengdu demo unit
DEMO_ORGANISER = "0193a1f0-0000-7000-8000-00000000e001"  # 评委会组建单位
# 授权管理单位: 成都市人力资源和社会保障局 (f001 in the applications demo data), for all of 成都市
DEMO_AUTHORITY_REGION = "510100"
# another unit and another region: whose reviewers must see nothing of the demo unit's applications
OTHER_UNIT = "0193a1f0-0000-7000-8000-00000000a003"  # 四川省示例建筑设计研究院有限公司
OTHER_AUTHORITY_REGION = "511100"  # 乐山市


@dataclass(frozen=True)
class DemoUser:
    key: str
    label: str
    name: str
    id_number: str
    phone: str
    grants: tuple[Grant, ...]

    def identity(self) -> ExternalIdentity:
        return ExternalIdentity(
            issuer=DEV_ISSUER,
            subject=f"demo-{self.key}",
            name=self.name,
            id_type="居民身份证",
            id_number=self.id_number,
            phone=self.phone,
            auth_level=3,
        )


# the demo experts sit on both demo committees' panels (an expert may serve several committees)
EXPERT_PANELS = (Grant("expert", "committee", DEMO_COMMITTEE), Grant("expert", "committee", DEMO_ENTRUSTED_COMMITTEE))

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "applicant", "申报人", "王小明", "510104198506035532", "13800000001", (Grant("applicant", "global", None),)
    ),
    DemoUser(
        "applicant2",
        "申报人（二）",
        "赵文博",
        "510104198807122314",
        "13800000021",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant3",
        "申报人（三）",
        "钱晓燕",
        "510107199003052422",
        "13800000022",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant4",
        "申报人（四）",
        "孙建国",
        "511302198209153013",
        "13800000023",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant5",
        "申报人（五）",
        "李梦瑶",
        "510703199311284628",
        "13800000024",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant6",
        "申报人（六）",
        "周志远",
        "510105198604182110",
        "13800000025",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant8",
        "申报人（八）",
        "郑凯",
        "510104198909232514",
        "13800000027",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant7",
        "申报人（七）",
        "吴佳琪",
        "511502199106205322",
        "13800000026",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant9",
        "申报人（九）",
        "郑浩然",
        "510104198804123530",
        "13800000028",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant10",
        "申报人（十）",
        "冯思远",
        "510107199108231611",
        "13800000029",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant11",
        "申报人（十一）",
        "陈一鸣",
        "510105198701092715",
        "13800000030",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant12",
        "申报人（十二）",
        "褚晓丽",
        "511302199205172828",
        "13800000031",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant13",
        "申报人（十三）",
        "卫东",
        "511502198503064119",
        "13800000034",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant14",
        "申报人（十四）",
        "蒋文静",
        "510703199009212420",
        "13800000035",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant15",
        "申报人（十五）",
        "杨立新",
        "510107199503153414",
        "13800000036",
        (Grant("applicant", "global", None),),
    ),
    # their applications are the running instances the process designer's migration dry run lists (browser test)
    DemoUser(
        "applicant16",
        "申报人（十六）",
        "钟伟",
        "51010419880611251X",
        "13800000037",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "applicant17",
        "申报人（十七）",
        "何静",
        "510107199202173323",
        "13800000038",
        (Grant("applicant", "global", None),),
    ),
    # the application the operator console's browser test finds waiting in its 公示, suspends and resumes
    DemoUser(
        "applicant18",
        "申报人（十八）",
        "冯建国",
        "510105199308203612",
        "13800000039",
        (Grant("applicant", "global", None),),
    ),
    DemoUser(
        "unit_reviewer",
        "工作单位审核人",
        "李静",
        "510107198802141224",
        "13800000002",
        (Grant("unit_reviewer", "unit", DEMO_UNIT),),
    ),
    DemoUser(
        "unit_reviewer2",
        "工作单位审核人（省建筑设计院）",
        "周雨桐",
        "510107198703162521",
        "13800000032",
        (Grant("unit_reviewer", "unit", OTHER_UNIT),),
    ),
    DemoUser(
        "department_reviewer",
        "主管部门审核人",
        "张国强",
        "511302197905123016",
        "13800000003",
        (Grant("department_reviewer", "department", DEMO_DEPARTMENT),),
    ),
    DemoUser(
        "department_reviewer2",
        "上级主管部门审核人",
        "何平",
        "510104197412085016",
        "13800000013",
        (Grant("department_reviewer", "department", DEMO_DEPARTMENT_2),),
    ),
    DemoUser(
        "committee_staff",
        "评委会工作人员",
        "陈丽",
        "510703198309214626",
        "13800000004",
        (Grant("committee_staff", "committee", DEMO_COMMITTEE),),
    ),
    DemoUser(
        "committee_staff2",
        "评委会工作人员（乐山）",
        "罗敏",
        "511102198503162024",
        "13800000014",
        (Grant("committee_staff", "committee", DEMO_ENTRUSTED_COMMITTEE),),
    ),
    DemoUser(
        "committee_organiser",
        "评委会组建单位",
        "刘建华",
        "510105197503082116",
        "13800000005",
        (Grant("committee_organiser", "committee", DEMO_COMMITTEE),),  # organiser of the demo committee
    ),
    DemoUser(
        "expert",
        "评审专家",
        "赵敏",
        "511502198601175322",
        "13800000006",
        EXPERT_PANELS,
    ),
    DemoUser(
        "expert2",
        "评审专家（二）",
        "钱亮",
        "510105198203154418",
        "13800000011",
        EXPERT_PANELS,
    ),
    DemoUser(
        "expert3",
        "评审专家（三）",
        "冯雪",
        "510106198707225124",
        "13800000012",
        EXPERT_PANELS,
    ),
    DemoUser(
        "authority",
        "授权管理单位（发证）",
        "孙伟",
        "510402199006247182",
        "13800000007",
        (Grant("authority", "region", DEMO_AUTHORITY_REGION),),
    ),
    DemoUser(
        "authority2",
        "授权管理单位（乐山）",
        "黄海",
        "511102198007223019",
        "13800000033",
        (Grant("authority", "region", OTHER_AUTHORITY_REGION),),
    ),
    DemoUser(
        "process_designer",
        "流程设计人员",
        "周芳",
        "510106198111306425",
        "13800000008",
        (Grant("process_designer", "global", None),),
    ),
    DemoUser("operator", "运维人员", "吴强", "511702199204053116", "13800000009", (Grant("operator", "global", None),)),
    DemoUser("admin", "系统管理员", "郑洁", "510112197001014010", "13800000010", (Grant("admin", "global", None),)),
)


def demo_user(key: str) -> DemoUser | None:
    return next((u for u in DEMO_USERS if u.key == key), None)
