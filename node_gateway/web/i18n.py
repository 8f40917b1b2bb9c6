"""The pages' words in Chinese (the default) and English: a message catalogue, not a framework.

``MESSAGES`` maps a key to its (Chinese, English) text, with ``{name}`` placeholders; a plugin adds
its own keys (``plugins.Pages.messages``). A key missing from the catalogue shows as itself, so a
forgotten message is visible on the page rather than an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # the frame
    "app.name": ("函证网", "confirmnet"),
    "lang.switch": ("English", "中文"),
    "role.operator": ("联盟运营方", "consortium operator"),
    "role.audit_firm": ("会计师事务所", "audit firm"),
    "role.bank": ("银行", "bank"),
    "role.regulator": ("监管机构", "regulator"),
    "frame.member": ("成员编号", "member"),
    "frame.not_member": ("尚未加入", "not yet a member"),
    "frame.chain": ("链 ID", "chain id"),
    "frame.head": ("最新区块", "head block"),
    "frame.indexed": ("已索引至", "indexed to"),
    "sync.in_sync": ("已同步", "in sync"),
    "sync.behind": ("落后 {lag} 个区块", "{lag} blocks behind"),
    "sync.unreachable": ("链节点无法连接", "chain node unreachable"),
    "frame.user": ("用户", "user"),
    "userrole.auditor": ("审计人员", "auditor"),
    "userrole.auditee": ("被审计单位签字人", "auditee's signer"),
    "userrole.officer": ("经办", "officer"),
    "userrole.preparer": ("编制人", "preparer"),
    "userrole.reviewer": ("复核人", "reviewer"),
    "userrole.analyst": ("分析员", "analyst"),
    "userrole.operator": ("运营人员", "operator"),
    "userrole.admin": ("管理员", "admin"),
    "frame.roles": ("角色", "roles"),
    "nav.members": ("成员", "Members"),
    "nav.health": ("网络状况", "Network health"),
    "nav.users": ("用户管理", "Users"),
    "nav.account": ("我的账户", "My account"),
    "nav.api": ("API 文档", "API docs"),
    "nav.sign_out": ("退出", "Sign out"),
    "nav.skip": ("跳到正文", "Skip to content"),
    # sign-in and the account
    "sign_in.title": ("登录", "Sign in"),
    "sign_in.name": ("用户名", "Name"),
    "sign_in.password": ("密码", "Password"),
    "sign_in.submit": ("登录", "Sign in"),
    "sign_in.failed": ("用户名或密码错误", "Wrong name or password"),
    "sign_in.hint": (
        "使用本机构网关管理员为您设置的用户名和密码。程序访问请使用 API 密钥。",
        "Use the name and password this member's gateway admin gave you. Programs use API keys.",
    ),
    "totp.title": ("动态验证码", "One-time code"),
    "totp.code": ("验证器应用中的 6 位验证码", "The 6-digit code from your authenticator app"),
    "totp.submit": ("验证", "Verify"),
    "totp.failed": ("验证码错误或已使用", "Wrong or already used code"),
    "password.title": ("修改密码", "Change your password"),
    "password.one_time": (
        "您使用的是一次性密码,请设置自己的密码后继续。",
        "You signed in with a one-time password: choose your own to continue.",
    ),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码(至少 10 个字符)", "New password (at least 10 characters)"),
    "password.repeat": ("再次输入新密码", "New password again"),
    "password.mismatch": ("两次输入的新密码不一致", "The two new passwords differ"),
    "password.submit": ("保存密码", "Save password"),
    "password.changed": ("密码已修改", "Your password is changed"),
    "account.title": ("我的账户", "My account"),
    "account.totp": ("双因素认证(TOTP)", "Two-factor authentication (TOTP)"),
    "account.totp_on": ("已启用", "On"),
    "account.totp_off": ("未启用", "Off"),
    "account.totp_start": ("启用 TOTP", "Turn on TOTP"),
    "account.totp_secret": (
        "在验证器应用中添加此密钥(仅显示这一次),然后输入应用显示的验证码:",
        "Add this key to your authenticator app (it is shown this once), then type the code it shows:",
    ),
    "account.totp_uri": ("或使用此链接", "or this link"),
    "account.totp_confirm": ("确认启用", "Confirm"),
    "account.totp_enabled": ("TOTP 已启用", "TOTP is on"),
    # tables
    "table.filter": ("筛选", "Filter"),
    "table.filter_text": ("包含文字", "Containing"),
    "table.all": ("全部", "All"),
    "table.apply": ("应用", "Apply"),
    "table.clear": ("清除", "Clear"),
    "table.export_csv": ("导出 CSV", "Export CSV"),
    "table.export_xlsx": ("导出 Excel", "Export Excel"),
    "table.rows": ("共 {total} 行,第 {page}/{pages} 页", "{total} rows, page {page} of {pages}"),
    "table.previous": ("上一页", "Previous"),
    "table.next": ("下一页", "Next"),
    "table.empty": ("没有符合条件的行", "No rows match"),
    "table.sort_by": ("按此列排序", "Sort by this column"),
    "table.live": ("每 5 秒自动更新", "Updates itself every 5 seconds"),
    # members
    "members.title": ("联盟成员", "Members of the consortium"),
    "members.id": ("编号", "No."),
    "members.name": ("名称", "Name"),
    "members.role": ("类型", "Kind"),
    "members.status": ("状态", "Status"),
    "members.account": ("链上账户", "Account"),
    "members.endpoint": ("网关地址", "Gateway endpoint"),
    "members.org_id": ("机构标识", "Organisation id"),
    "members.queued": ("已提交、待上链", "Queued, not yet on chain"),
    "members.admit": ("接纳新成员", "Admit a member"),
    "members.actions": ("操作", "Actions"),
    "members.open": ("详情", "Details"),
    "status.active": ("正常", "active"),
    "status.suspended": ("已暂停", "suspended"),
    "status.revoked": ("已撤销", "revoked"),
    "status.none": ("无", "none"),
    "action.suspend": ("暂停", "Suspend"),
    "action.reinstate": ("恢复", "Reinstate"),
    "action.revoke": ("撤销(不可恢复)", "Revoke (final)"),
    "action.queued": (
        "已提交:{what}。上链后本页会自动更新。",
        "Queued: {what}. This page updates itself once it is on chain.",
    ),
    "action.none": ("该成员当前状态下没有可执行的操作", "Nothing can be done to this member now"),
    "action.operator": (
        "运营方成员的变更须经其他运营方链上投票(治理提案)",
        "An operator's changes go through the other operators' vote on chain (governance)",
    ),
    "admit.title": ("接纳新成员", "Admit a member"),
    "admit.fetch": ("从网关读取身份", "Read the identity from its gateway"),
    "admit.fetch_hint": (
        "输入新成员网关地址,读取其公开身份(账户、加密公钥)后核对并提交。",
        "Type the new member's gateway endpoint to read its public identity (account, encryption keys), "
        "then check it and submit.",
    ),
    "admit.fetched": ("已从 {endpoint} 读取,请核对", "Read from {endpoint}: check it"),
    "admit.account": ("链上账户地址", "Account address"),
    "admit.role": ("成员类型", "Kind of member"),
    "admit.code": ("统一社会信用代码", "Registration code"),
    "admit.name": ("名称", "Name"),
    "admit.keys": ("加密公钥(十六进制)", "Encryption keys (hex)"),
    "admit.submit": ("提交接纳", "Admit"),
    # health
    "health.title": ("网络状况", "Network health"),
    "health.this": ("本网关", "This gateway"),
    "health.outbox": ("待上链交易", "Queued transactions"),
    "health.stuck": ("卡住的交易", "Stuck transactions"),
    "health.deliveries": ("待投递信封", "Queued deliveries"),
    "health.gateways": ("各成员网关", "The members' gateways"),
    "health.reachable": ("可达性", "Reachability"),
    "health.ok": ("正常", "ok"),
    "health.degraded": ("降级", "degraded"),
    "health.unreachable": ("无法连接", "unreachable"),
    "health.no_endpoint": ("未登记地址", "no endpoint"),
    "health.latency": ("响应 (ms)", "Latency (ms)"),
    "health.checked": ("检查于 {time}(北京时间)", "checked at {time} (Beijing time)"),
    # users
    "users.title": ("用户管理", "Users"),
    "users.name": ("用户名", "Name"),
    "users.roles": ("角色", "Roles"),
    "users.password": ("密码", "Password"),
    "users.password_yes": ("已设置", "set"),
    "users.password_one_time": ("一次性", "one-time"),
    "users.password_no": ("无(仅 API 密钥)", "none (API key only)"),
    "users.totp": ("TOTP", "TOTP"),
    "users.created": ("创建时间", "Created"),
    "users.state": ("状态", "State"),
    "users.active": ("有效", "active"),
    "users.revoked": ("已停用", "revoked"),
    "users.add": ("添加用户", "Add a user"),
    "users.add_submit": ("添加", "Add"),
    "users.created_secret": (
        "用户 {name} 已添加。请将一次性密码交给本人(仅显示这一次),首次登录时须修改:",
        "User {name} is added. Hand over the one-time password (shown this once); it is changed at the first sign-in:",
    ),
    "users.api_key": ("API 密钥(供程序使用,仅显示这一次)", "API key (for programs, shown this once)"),
    "users.reset": ("重置密码", "Reset password"),
    "users.reset_done": (
        "用户 {name} 的一次性密码(仅显示这一次):",
        "The one-time password of {name} (shown this once):",
    ),
    "users.totp_remove": ("关闭 TOTP", "Turn TOTP off"),
    "users.totp_removed": ("已关闭 {name} 的 TOTP", "TOTP of {name} is off"),
    "users.revoke": ("停用", "Revoke"),
    "users.revoked_done": ("已停用 {name}", "{name} is revoked"),
    # the regulator's pages (web/regulator.py)
    "nav.statistics": ("统计", "Statistics"),
    "nav.verify": ("核验文件", "Verify a document"),
    "nav.contracts": ("合约核验", "Contract check"),
    "stats.title": ("各银行回函统计", "Replies per bank"),
    "stats.intro": (
        "仅依据链上事件统计(不含任何函证数据)。期间按询证函发出日(北京时间)筛选,起止日均包含在内。",
        "From the chain's events only (no letter data). The period keeps the letters requested on those "
        "days (Beijing time), both ends included.",
    ),
    "stats.from": ("起始日", "From"),
    "stats.to": ("截止日", "To"),
    "stats.filter_bank": ("银行名称或编号", "Bank name or number"),
    "stats.period": ("期间:{first} 至 {to}(北京时间)", "Period: {first} to {to} (Beijing time)"),
    "stats.all_time": ("期间:全部", "Period: all time"),
    "stats.banks": ("银行数", "Banks"),
    "stats.bank_no": ("成员编号", "Member"),
    "stats.bank": ("银行", "Bank"),
    "stats.received": ("收到询证函", "Letters received"),
    "stats.replied": ("已回函", "Replied"),
    "stats.rejected": ("退回", "Rejected"),
    "stats.awaiting": ("待银行处理", "Awaiting the bank"),
    "stats.overdue_at_bank": ("银行逾期", "Overdue at the bank"),
    "stats.overdue": ("逾期(合计)", "Overdue (all)"),
    "stats.reply_rate": ("回函率", "Reply rate"),
    "stats.median_reply": ("回函用时中位数", "Median reply time"),
    "stats.p95_reply": ("回函用时 95 分位", "95th percentile reply time"),
    "stats.median_end_to_end": ("发函至回函中位数", "Median request to reply"),
    "stats.in_seconds": ("(秒)", " (seconds)"),
    "stats.in_percent": ("(%)", " (%)"),
    "stats.chart_first": (
        "图表显示表格当前排序下的前 {n} 家银行。",
        "The charts show the first {n} banks in the table's order.",
    ),
    "stats.definitions": (
        "回函率 = 已回函 ÷(已回函 + 退回 + 银行逾期),尚在回函期限内的询证函不计入;回函用时自被审计单位授权起算至银行回函;"
        "逾期(合计)含等待被审计单位授权的逾期询证函。",
        "Reply rate = replied ÷ (replied + rejected + overdue at the bank); letters still within their "
        "due time are left out. Reply time runs from the auditee's authorisation to the bank's reply. "
        "Overdue (all) includes letters overdue while awaiting the auditee's authorisation.",
    ),
    "unit.d": ("{n} 天", "{n} d"),
    "unit.h": ("{n} 小时", "{n} h"),
    "unit.m": ("{n} 分", "{n} min"),
    "unit.s": ("{n} 秒", "{n} s"),
    "verify.title": ("核验询证函或回函", "Verify a letter or a reply"),
    "verify.intro": (
        "上传或粘贴询证函/回函的 JSON 文件及其盐值,与链上记录比对:文件是否被篡改、由哪家成员在何时记录。"
        '网关下载的 {{"reply": …, "salt": …}} 格式也可直接使用。',
        "Upload or paste a letter's or a reply's JSON with its salt to compare it with the chain's record: "
        "whether it was altered, and which member recorded it when. The gateways' "
        '{{"reply": …, "salt": …}} downloads work as they are.',
    ),
    "verify.kind": ("文件类型", "Document"),
    "verify.kind_reply": ("回函", "Reply"),
    "verify.kind_letter": ("询证函", "Letter"),
    "verify.upload": ("上传 JSON 文件", "Upload a JSON file"),
    "verify.paste": ("或粘贴 JSON", "or paste the JSON"),
    "verify.salt": ("盐值(十六进制)", "Salt (hex)"),
    "verify.salt_help": (
        "盐值随文件一起由发送方提供;没有盐值无法验证哈希。",
        "The salt comes with the document from its sender; without it the hash cannot be checked.",
    ),
    "verify.submit": ("核验", "Verify"),
    "verify.error": ("无法核验", "Cannot verify"),
    "verify.result": ("核验结果", "Result"),
    "verify.valid.letter": (
        "真实有效:该询证函与链上记录一致",
        "Genuine: this letter is the one recorded on chain",
    ),
    "verify.valid.reply": (
        "真实有效:该回函与链上记录一致",
        "Genuine: this reply is the one recorded on chain",
    ),
    "verify.invalid": ("核验未通过", "Not verified"),
    "verify.code.invalid_document": ("不是有效的文件或盐值", "not a valid document, or a wrong salt"),
    "verify.code.unknown_letter": ("链上没有这封询证函", "no such letter on chain"),
    "verify.code.not_replied": ("链上尚无该询证函的回函", "the chain records no reply to this letter"),
    "verify.code.hash_mismatch": (
        "文件与链上哈希不符:内容已被改动,或盐值不对",
        "the document does not match the hash on chain: altered, or the wrong salt",
    ),
    "verify.code.document_mismatch": (
        "文件所载当事方与链上记录不一致",
        "the document names other parties than the chain's record",
    ),
    "verify.code.not_recorded": ("找不到记录该哈希的链上事件", "no chain event records the hash"),
    "verify.letter_id": ("函证编号(链上 ID)", "Letter id"),
    "verify.letter_status": ("链上状态", "Status on chain"),
    "verify.document_hash": ("加盐哈希", "Salted hash"),
    "verify.recorded_by": ("记录方", "Recorded by"),
    "verify.recorded_at": ("记录时间(北京时间)", "Recorded at (Beijing time)"),
    "verify.block": ("区块", "block"),
    "verify.checks": ("逐项检查", "Checks"),
    "verify.pass": ("通过", "pass"),
    "verify.fail": ("未通过", "fail"),
    "verify.stopped": (
        "检查在第一项未通过处停止,其后各项未执行。",
        "The checks stop at the first that fails; the later ones were not run.",
    ),
    "check.document": (
        "格式:是否为所选类型的有效文件",
        "Format: is it a valid document of the kind chosen?",
    ),
    "check.salt": ("盐值:长度是否正确", "Salt: is it of the right length?"),
    "check.letter_id": ("函证编号:是否与链上记录一致", "Letter id: is it the record's?"),
    "check.letter_on_chain": ("询证函:链上是否有这封询证函", "Letter: is it on chain?"),
    "check.reply_on_chain": ("回函:银行是否已在链上记录回函", "Reply: did the bank record one on chain?"),
    "check.hash": (
        "哈希:文件加盐后的哈希是否等于链上哈希(不等即内容被改动或盐值不对)",
        "Hash: does the salted hash equal the chain's? (If not, the content was altered or the salt is wrong)",
    ),
    "check.consistency": (
        "当事方:文件所载事务所、银行(及回函对应的询证函)是否与链上记录相同",
        "Parties: are the firm, the bank (and the letter a reply answers) the chain's?",
    ),
    "check.recorded": (
        "记录方:链上是否有记录该哈希的事件,由哪家成员、在哪个区块记录",
        "Recording: which chain event recorded the hash, by which member, in which block?",
    ),
    "check.chain_id": ("链 ID:所连节点是否为本网络的链", "Chain id: is the node this network's chain?"),
    "check.contract.MemberRegistry": (
        "成员合约:代码是否与提交的构建逐字节一致,不可变量是否为本网络的值",
        "MemberRegistry: is its code the committed build, its immutables this network's?",
    ),
    "check.contract.ConfirmationRegistry": (
        "函证合约:代码是否与提交的构建逐字节一致,不可变量是否为本网络的值",
        "ConfirmationRegistry: is its code the committed build, its immutables this network's?",
    ),
    "check.registry_link": (
        "合约关联:函证合约是否使用本网络的成员合约",
        "Link: does the ConfirmationRegistry use this network's MemberRegistry?",
    ),
    "lstatus.none": ("不存在", "none"),
    "lstatus.requested": ("已发函", "requested"),
    "lstatus.authorised": ("已授权", "authorised"),
    "lstatus.accepted": ("银行已受理", "accepted"),
    "lstatus.rejected": ("银行已退回", "rejected"),
    "lstatus.replied": ("已回函", "replied"),
    "lstatus.closed": ("已结束", "closed"),
    "lstatus.withdrawn": ("已撤回", "withdrawn"),
    "lstatus.refused": ("被审计单位拒绝授权", "authorisation refused"),
    "contracts.title": ("已部署合约核验", "Deployed contracts"),
    "contracts.intro": (
        "核验链上两份合约是否为提交的构建、是否绑定本网络,与 confirmnet verify contracts 相同。"
        "信任锚是本网关的网络文件,而非链上任何声明。",
        "Checks that the two contracts on chain are the committed build, bound to this network, as "
        "confirmnet verify contracts does. The trust anchor is this gateway's network file, never "
        "anything the chain says.",
    ),
    "contracts.ok": (
        "合约可信:链上代码即提交的构建,且属于本网络",
        "Trusted: the code on chain is the committed build, of this network",
    ),
    "contracts.bad": (
        "合约核验未通过:不要信任此节点上的记录",
        "Not verified: do not trust this node's records",
    ),
    "contracts.unreachable": ("无法询问链节点", "The chain node cannot be asked"),
    "contracts.anchor": ("信任锚", "Trust anchor"),
    "contracts.anchor_is": ("本网关的网络文件", "this gateway's network file"),
    "contracts.deployment_block": ("部署区块", "Deployment block"),
    "contracts.yourself": ("在本机之外自行核验", "Check it yourself, off this gateway"),
    "contracts.yourself_text": (
        "任何人都可用自己持有的网络文件,对任一节点运行同样的检查(pip install confirmnet):",
        "Anyone can run the same check with a network file they hold, against any node "
        "(pip install confirmnet):",
    ),
    # home and errors
    "home.title": ("首页", "Home"),
    "home.later": (
        "本机构角色的页面将在后续版本提供;目前可使用 API 与命令行。",
        "The pages of this member's role come in a later version; use the API and the CLI meanwhile.",
    ),
    "error.title": ("出错了", "Something went wrong"),
    "error.code": ("错误代码", "Error code"),
    "error.back": ("返回", "Go back"),
    "error.401": ("请先登录", "Please sign in"),
    "error.403": ("您没有此页面所需的权限", "You lack the role this page needs"),
    "error.404": ("找不到该内容", "Not found"),
    "error.409": ("当前状态不允许此操作", "The current state does not allow this"),
    "error.422": ("请求内容有误", "The request is wrong"),
    "error.503": ("服务暂时不可用", "The service is unavailable"),
}


class Catalogue:
    """The core's messages with those of the plugins; ``translator(lang)`` gives the ``t`` of the
    templates."""

    def __init__(self, extra: Sequence[Mapping[str, tuple[str, str]]] = ()) -> None:
        self.messages = dict(MESSAGES)
        for messages in extra:
            self.messages.update(messages)

    def translator(self, lang: str) -> Callable[..., str]:
        index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

        def t(key: str, **values: Any) -> str:
            pair = self.messages.get(key)
            return key if pair is None else pair[index].format(**values)

        return t
