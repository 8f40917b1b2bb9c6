"""The pages' words in Chinese (the default) and English: a message catalogue, not a framework.

``MESSAGES`` maps a key to its (Chinese, English) text, with ``{name}`` placeholders; a plugin adds
its own keys (``plugins.Pages.messages``). A key missing from the catalogue shows as itself, so a
forgotten message is visible on the page rather than an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from node_gateway.protocol.documents import FIELD_TITLES, ITEM_TITLES, STANDARD_ITEMS, ItemKey

LANGUAGES = ("zh", "en")

FIELD_WORDS: dict[str, str] = {
    "account_no": "account no.",
    "account_name": "account name",
    "currency": "currency",
    "restricted": "restricted",
    "restriction_note": "restriction",
    "interest_rate": "interest rate",
    "account_type": "account type",
    "deposit_type": "deposit product",
    "balance": "balance",
    "start_date": "start date",
    "end_date": "end date",
    "cash_pooled": "in a cash pool",
    "note": "note",
    "borrower_name": "borrower",
    "principal": "principal",
    "accrued_interest": "accrued interest",
    "maturity_date": "maturity date",
    "security_note": "security",
    "contract_no": "contract no.",
    "closed_on": "closed on",
    "lender_name": "lender",
    "kind": "kind",
    "counterparty_name": "counterparty",
    "method": "method",
    "amount": "amount",
    "purpose": "purpose",
    "bill_no": "bill no.",
    "face_amount": "face amount",
    "issued_on": "issued on",
    "due_on": "due on",
    "acceptor_name": "acceptor",
    "settlement_account_no": "settlement account",
    "discounted_on": "discounted on",
    "discount_rate": "discount rate",
    "net_amount": "net proceeds",
    "lc_no": "L/C no.",
    "beneficiary_name": "beneficiary",
    "unused_amount": "unused amount",
    "expires_on": "expires on",
    "bought_currency": "bought currency",
    "bought_amount": "bought amount",
    "sold_currency": "sold currency",
    "sold_amount": "sold amount",
    "rate": "rate",
    "settlement_date": "settlement date",
    "name": "name",
    "quantity": "quantity",
    "document_no": "document no.",
    "product_code": "product code",
    "product_name": "product name",
    "product_type": "product type",
    "units": "units held",
    "net_value": "net asset value",
    "purchased_on": "purchased on",
    "matures_on": "matures on",
    "principal_protected": "principal protected",
    "description": "description",
    "provider_name": "provider",
    "provider_account_no": "provider's account",
    "user_name": "user",
    "user_account_no": "user's account",
    "payer_name": "payer",
    "paid_on": "paid on",
}
"""The entries' fields in English. Their Chinese is the standard letter's column titles
(``documents.FIELD_TITLES``), which the printouts use too: one source of the official words."""


def _field_messages() -> dict[str, tuple[str, str]]:
    """``field.<item>.<field>``: the field's column heading in that item (``borrower_name`` is
    借款人名称 in item 2 and 资金借入方 in item 4); ``field.<field>``, where no item is known (a
    sheet's column, a check's message): its title in the first item that has it."""
    messages: dict[str, tuple[str, str]] = {}
    for key, titles in FIELD_TITLES.items():
        for field, title in titles.items():
            words = (title, FIELD_WORDS.get(field, field))
            messages[f"field.{key.value}.{field}"] = words
            messages.setdefault(f"field.{field}", words)
    return messages


ITEM_WORDS: Mapping[ItemKey, str] = {
    ItemKey.DEPOSITS: "Deposits",
    ItemKey.LOANS: "Loans",
    ItemKey.CLOSED_ACCOUNTS: "Accounts closed in the period",
    ItemKey.ENTRUSTED_LOANS_GIVEN: "Entrusted loans (as entrustor)",
    ItemKey.ENTRUSTED_LOANS_TAKEN: "Entrusted loans (as borrower)",
    ItemKey.GUARANTEES: "Guarantees",
    ItemKey.BANK_ACCEPTANCES: "Bank acceptances",
    ItemKey.DISCOUNTED_BILLS: "Discounted bills",
    ItemKey.BILLS_FOR_COLLECTION: "Bills for collection",
    ItemKey.LETTERS_OF_CREDIT: "Letters of credit",
    ItemKey.FX_CONTRACTS: "FX contracts",
    ItemKey.CUSTODY: "Custody",
    ItemKey.WEALTH_PRODUCTS: "Wealth-management products",
    ItemKey.OTHER: "Other",
    ItemKey.CASH_POOLING: "cash pooling",
    ItemKey.CAPITAL_CONTRIBUTIONS: "investors' contributions",
}
"""The items in English. Their Chinese is the standard letter's (``documents.ITEM_TITLES``)."""


def _item_messages() -> dict[str, tuple[str, str]]:
    """``item.<item>``: the item as the pages name it, numbered as on the letter ("1 银行存款"),
    the annex and the 验资 letter's one item by what they are."""
    messages: dict[str, tuple[str, str]] = {}
    for key in ItemKey:
        title, words = ITEM_TITLES[key], ITEM_WORDS[key]
        if key is ItemKey.CASH_POOLING:
            messages[f"item.{key.value}"] = (f"附 {title}", f"Annex: {words}")
        elif key in STANDARD_ITEMS:
            number = STANDARD_ITEMS.index(key) + 1
            messages[f"item.{key.value}"] = (f"{number} {title}", f"{number} {words}")
        else:
            messages[f"item.{key.value}"] = (f"验资 {title}", f"Capital verification: {words}")
    return messages


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
    # the sign-in limit (web/sign_in_limit.py)
    "sign_in.too_many": (
        "登录失败次数过多，请于 {wait}后再试。",
        "Too many failed sign-ins: try again in {wait}.",
    ),
    "wait.seconds": ("{n} 秒", "{n} s"),
    "wait.minutes": ("{n} 分钟", "{n} min"),
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
    "stats.overdue": ("银行逾期未回函", "Overdue at the bank"),
    "stats.replied_late": ("逾期回函", "Replied late"),
    "stats.reply_rate": ("回函率", "Reply rate"),
    "stats.notice_timeliness": ("不符通知及时率", "Notices on time"),
    "stats.notices_count": ("及时 {on_time} · 逾期 {late}", "{on_time} on time · {late} late"),
    "stats.reasons": ("退回原因", "Reasons for rejection"),
    "stats.reason": ("原因", "Reason"),
    "stats.share": ("占比", "Share"),
    "stats.no_rejections": ("本期间没有退回的询证函。", "No letter was rejected in this period."),
    "stats.date_format": ("日期格式:年-月-日,如 2026-11-30", "Date as year-month-day, e.g. 2026-11-30"),
    "stats.provisional": (
        "其中 {n} 封询证函的法定期限落在尚未发布官方日历的年份,暂按周一至周五计算工作日,相关数字为暂定。",
        "For {n} letter(s) the statutory deadline falls in a year whose official calendar is not yet "
        "published: working days are counted as Monday to Friday for now, and those figures are provisional.",
    ),
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
        "期限按法定工作日(官方日历,含节假日与调休)依链上区块时间的北京日期计算,不采用事务所设定的回函截止日:"
        "银行自受理(LetterAccepted)起 10 个工作日内回函,尚未受理或退回的自被审计单位授权起算;"
        "不合规的询证函自授权起 3 个工作日内发出不符通知(退回)。期限日次日起为逾期。"
        "回函率 = 已回函 ÷(已回函 + 退回 + 银行逾期未回函),尚在法定期限内的询证函不计入;"
        "回函用时自被审计单位授权起算至银行回函。",
        "Deadlines are the statutory ones in working days of the official calendar (holidays and make-up "
        "days included), counted from the Beijing dates of the chain's block times, never the firm's own due "
        "date: the bank replies within 10 working days of accepting a letter (a letter neither accepted nor "
        "rejected counts from the auditee's authorisation), and gives a non-compliance notice (a rejection) "
        "within 3 working days of the authorisation. Late means after the due day. Reply rate = replied ÷ "
        "(replied + rejected + overdue at the bank); letters still within their statutory time are left "
        "out. Reply time runs from the auditee's authorisation to the bank's reply.",
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
    # the audit firm's pages (web/firm.py); field., item. and value. are the letter's own words
    # (the bank plugin's pages have the same keys)
    "nav.firm_letters": ("询证函", "Letters"),
    "firm.letters.title": ("询证函进度", "Our letters"),
    "firm.letters.lead": (
        "本所发出的全部询证函,按截止时间排列;逾期者(已过回函截止时间仍在等待被审计单位或银行)以红色标出。",
        "Every letter this firm has requested, by deadline; overdue ones (past the reply's due "
        "time, still awaiting the auditee or the bank) are marked in red.",
    ),
    "firm.letters.total": ("全部", "all"),
    "firm.letters.overdue": ("已逾期", "overdue"),
    "firm.letters.overdue_rule": (
        "逾期:已过回函截止时间,仍在等待被审计单位授权或银行回函",
        "overdue: past the due time, still awaiting the auditee or the bank",
    ),
    "firm.col.due": ("回函截止(北京时间)", "Due (Beijing time)"),
    "firm.col.overdue": ("逾期", "Overdue"),
    "firm.col.status": ("状态", "Status"),
    "firm.col.bank": ("银行", "Bank"),
    "firm.col.auditee": ("被审计单位", "Auditee"),
    "firm.col.letter": ("函证编号", "Letter"),
    "firm.col.requested": ("发出时间", "Requested"),
    "firm.col.reply": ("回函", "Reply"),
    "firm.overdue.yes": ("已逾期", "overdue"),
    "firm.overdue.no": ("未逾期", "on time"),
    "firm.reply_verified": ("已核验", "verified"),
    "letterstatus.PENDING": ("待上链", "not yet on chain"),
    "letterstatus.REQUESTED": ("待被审计单位授权", "awaiting authorisation"),
    "letterstatus.AUTHORISED": ("已授权,待银行受理", "authorised, awaiting the bank"),
    "letterstatus.ACCEPTED": ("银行已受理,待回函", "accepted, awaiting the reply"),
    "letterstatus.REPLIED": ("已回函,待关闭", "replied, to close"),
    "letterstatus.CLOSED": ("已关闭", "closed"),
    "letterstatus.REJECTED": ("银行拒绝(不合规)", "rejected by the bank"),
    "letterstatus.REFUSED": ("被审计单位拒绝授权", "authorisation refused"),
    "letterstatus.WITHDRAWN": ("已撤回", "withdrawn"),
    "firm.auth.title": ("待授权的询证函({n} 封)", "Letters awaiting authorisation ({n})"),
    "firm.auth.lead": (
        "选择要请被审计单位一次签字授权的询证函,生成授权申请,并把链接发给其授权签字人。新发出的询证函在刷新页面后出现于此。",
        "Choose the letters the auditee's signer authorises with one signature, create the request "
        "and send its link to the signer. Letters requested since show here after a reload.",
    ),
    "firm.auth.all": ("全选", "Select all"),
    "firm.auth.create": ("创建授权申请", "Create the authorisation request"),
    "firm.auth.none_chosen": ("请至少选择一封询证函", "Choose at least one letter"),
    "firm.auth.created_title": ("授权申请已创建", "Authorisation request created"),
    "firm.auth.link": ("发给被审计单位签字人的链接", "The link for the auditee's signer"),
    "firm.auth.link_lead": (
        "签字人用本所为其开设的账户(角色:被审计单位签字人)登录后打开此链接。",
        "The signer opens it signed in with the account this firm gave them (role: auditee's signer).",
    ),
    "firm.auth.copy": ("复制链接", "Copy the link"),
    "firm.auth.copied": ("已复制", "Copied"),
    "firm.auth.bundle": (
        "授权范围:{n} 封询证函,{banks} 家银行",
        "What it covers: {n} letters, {banks} banks",
    ),
    "firm.auth.banks": ("银行", "Banks"),
    "firm.auth.valid_until": ("授权有效期至(北京时间)", "Valid until (Beijing time)"),
    "firm.auth.root": ("签字内容摘要(Merkle 根)", "What is signed (Merkle root)"),
    "firm.authorise.download": ("下载授权包(JSON)", "Download the bundle (JSON)"),
    "firm.letter.title": ("询证函 {id}", "Letter {id}"),
    "firm.letter.back": ("返回询证函列表", "Back to the letters"),
    "firm.letter.parties": ("函证各方", "Parties"),
    "firm.letter.auditee": ("被审计单位", "Auditee"),
    "firm.letter.bank": ("银行", "Bank"),
    "firm.letter.firm": ("会计师事务所", "Audit firm"),
    "firm.letter.format": ("格式", "Format"),
    "firm.letter.reference_date": ("基准日", "Reference date"),
    "firm.letter.issued_on": ("发函日期", "Issued on"),
    "firm.letter.actions": ("操作", "Actions"),
    "firm.letter.pending": ("待上链的步骤", "Steps queued for the chain"),
    "firm.letter.evidence_lead": (
        "证据包含询证函、回函、盐值、授权与链上记录,可用 confirmnet verify 离线核验。",
        "The letter, the reply, their salts, the authorisation and the chain records: "
        "confirmnet verify checks it offline.",
    ),
    "firm.letter.no_actions.pending": (
        "询证函尚未上链,稍候。",
        "The letter is not on chain yet; wait a moment.",
    ),
    "firm.letter.no_actions.replied": (
        "回函尚未通过核验,暂不能关闭。",
        "The reply is not verified yet, so the letter cannot be closed.",
    ),
    "firm.letter.no_actions.other": ("此状态下无可执行的操作。", "Nothing to do in this state."),
    "firm.format.one": ("格式一(审计师填写,银行确认)", "format one (the auditor states, the bank confirms)"),
    "firm.format.two": ("格式二(银行填写)", "format two (the bank fills in)"),
    "firm.do.close": ("关闭询证函(回函已核验)", "Close the letter (reply verified)"),
    "firm.do.follow_up": ("催函", "Follow up"),
    "firm.do.withdraw": ("撤回询证函", "Withdraw the letter"),
    "firm.do.withdraw_confirm": (
        "确定撤回此询证函?撤回后不可恢复。",
        "Withdraw this letter? It cannot be undone.",
    ),
    "firm.do.evidence": ("下载证据包(JSON)", "Download the evidence (JSON)"),
    "firm.done.follow_up": ("已催函,待上链", "Followed up; queued for the chain"),
    "firm.done.withdraw": ("已撤回,待上链", "Withdrawn; queued for the chain"),
    "firm.done.close": ("已关闭,待上链", "Closed; queued for the chain"),
    "firm.step.request": ("发出", "request"),
    "firm.step.authorise": ("授权", "authorise"),
    "firm.step.refuse": ("拒绝授权", "refuse"),
    "firm.step.follow_up": ("催函", "follow up"),
    "firm.step.withdraw": ("撤回", "withdraw"),
    "firm.step.close": ("关闭", "close"),
    "firm.outbox.pending": ("排队中", "queued"),
    "firm.outbox.failed": ("失败", "failed"),
    "firm.outbox.attempts": ("已尝试 {n} 次", "{n} attempts"),
    "firm.reply.title": ("银行回函", "The bank's reply"),
    "firm.reply.replied_on": ("回函日期", "Replied on"),
    "firm.reply.signed": ("银行签字", "Signed by"),
    "firm.reply.preparer": ("经办", "preparer"),
    "firm.reply.reviewer": ("复核", "reviewer"),
    "firm.reply.check": ("链上核验", "Chain check"),
    "firm.reply.verified_now": (
        "回函与银行上链的哈希一致(刚刚核验)",
        "the reply matches the hash the bank recorded on chain (checked just now)",
    ),
    "firm.reply.remarks": ("备注", "Remarks"),
    "firm.reply.not_verified": ("回函未通过核验,请勿依赖:", "The reply did not verify; do not rely on it:"),
    "firm.items.title": ("函证项目", "Items"),
    "firm.items.lead": ("询证函所列各项(只读)。", "The letter's items as sent (read only)."),
    "firm.items.lead_reply": (
        "询证函所列各项与银行的答复:不符的行以红色标出,单元格中划线为函证所列数值,下方为银行记录的数值。",
        "The letter's items with the bank's answers: rows with a difference are red; in a cell, "
        "struck through is the letter's value, below it the bank's.",
    ),
    "firm.items.answer": ("银行答复", "Bank's answer"),
    "firm.items.matches": ("相符", "as stated"),
    "firm.items.differs": ("不符,见下行", "differs, see below"),
    "firm.items.blank": ("由银行填写", "left to the bank"),
    "firm.items.none": ("没有列示的项目", "No items listed"),
    "firm.items.not_applicable": ("不适用的项目", "Items not applicable"),
    "firm.diff.different_value": ("银行记录的数值不同", "the bank's records hold another value"),
    "firm.diff.unknown_to_bank": ("银行无此记录", "unknown to the bank"),
    "firm.diff.not_listed_by_auditor": ("银行有记录,询证函未列示", "held by the bank, not in the letter"),
    "firm.diff.closed_account": ("该账户已注销", "the account is closed"),
    "firm.diff.other": ("其他差异", "other difference"),
    "firm.diff.auditor": ("函证所列", "the letter"),
    "firm.diff.bank": ("银行记录", "the bank"),
    "firm.diff.note": ("银行说明", "bank's note"),
    "firm.timeline.title": ("链上记录", "Timeline on chain"),
    "firm.timeline.when": ("时间(北京时间)", "When (Beijing time)"),
    "firm.timeline.step": ("步骤", "Step"),
    "firm.timeline.who": ("操作方", "By"),
    "firm.timeline.block": ("区块", "Block"),
    "firm.timeline.tx": ("交易哈希", "Transaction"),
    "firm.timeline.empty": ("尚无链上记录", "Nothing on chain yet"),
    "firm.timeline.lead": (
        "每一步均由操作方签名上链;时间为区块时间。",
        "Each step is signed by who took it and recorded on chain; times are the blocks' times.",
    ),
    "firm.signer": ("被审计单位签字人 {address}", "the auditee's signer {address}"),
    "firm.rejection.1": ("函证内容不完整", "the letter is incomplete"),
    "firm.rejection.2": ("基准日无效", "the reference date is invalid"),
    "firm.rejection.3": ("被审计单位信息与银行记录不符", "the auditee is not the one the bank knows"),
    "firm.rejection.4": ("授权无效", "the authorisation is invalid"),
    "firm.rejection.5": ("非会计师事务所发出", "not sent by an audit firm"),
    "firm.rejection.99": ("其他原因", "another reason"),
    "firm.refusal.1": ("非本单位审计师", "not our auditor"),
    "firm.refusal.2": ("内容有误", "wrong content"),
    "firm.refusal.99": ("其他原因", "another reason"),
    # The auditee's refusal in words (ISA 505 ¶8), kept by the firm only.
    "refusal.title": ("被审计单位拒绝授权", "The auditee refused"),
    "refusal.words": ("拒绝理由", "Reason in words"),
    "refusal.lead": (
        "被审计单位随签名的拒绝一并提交;仅保存在本所,不上链。",
        "Given by the auditee with its signed refusal; kept by this firm only, not on chain.",
    ),
    # The firm's words to the bank with a follow-up (催函) or a withdrawal (撤回), never on chain.
    "words.message_label": ("催函留言(可选,发给银行)", "Message to the bank (optional)"),
    "words.reason_label": ("撤回理由(可选,发给银行)", "Reason for withdrawing (optional, to the bank)"),
    "words.hint": (
        "最多500字;加密发给已收到询证函的银行,不上链;银行尚未收到询证函(未授权)时仅本所留存。",
        "Up to 500 characters; sent encrypted to the bank if it holds the letter, never on chain; "
        "kept by this firm only while the bank has not received the letter (not authorised).",
    ),
    "words.follow_ups": ("催函记录", "Follow-ups"),
    "words.nth": ("第{n}次催函", "Follow-up {n}"),
    "words.on_its_way": ("上链中", "on its way to the chain"),
    "words.no_message": ("(无留言)", "(no message)"),
    "words.withdrawal": ("撤回询证函", "Withdrawal"),
    "words.reason": ("撤回理由", "Reason"),
    "words.to_bank": ("发送银行", "To the bank"),
    "words.delivery.pending": ("正在加密发送银行", "being sent to the bank, encrypted"),
    "words.delivery.done": ("银行已收到", "received by the bank"),
    "words.delivery.failed": ("银行拒收", "refused by the bank"),
    "words.delivery.kept": (
        "仅本所留存(银行未收到询证函)",
        "kept by this firm (the bank never received the letter)",
    ),
    "words.lead": (
        "会计师事务所的留言与理由加密传送,仅保存在双方,不上链;催函和撤回的事实与时间记录在链上。",
        "The firm's words travel encrypted and are kept by the two parties only, never on chain; "
        "the fact and time of each follow-up and withdrawal are on chain.",
    ),
    "event.LetterRequested": ("发出询证函", "letter requested"),
    "event.LetterAuthorised": ("被审计单位授权", "authorised by the auditee"),
    "event.AuthorisationRefused": ("被审计单位拒绝授权", "authorisation refused"),
    "event.LetterAccepted": ("银行受理", "accepted by the bank"),
    "event.LetterRejected": ("银行拒绝(不合规)", "rejected by the bank"),
    "event.LetterReplied": ("银行回函", "replied"),
    "event.LetterClosed": ("关闭", "closed"),
    "event.LetterWithdrawn": ("撤回", "withdrawn"),
    "event.LetterFollowedUp": ("催函", "followed up"),
    "item.confirmed": ("相符(信息证明无误)", "confirmed"),
    "item.exception": ("不符(信息不符)", "exception"),
    "item.not_applicable": ("不适用", "not applicable"),
    # the entries' fields as their items' columns: field.<item>.<field> and field.<field>
    **_field_messages(),
    **_item_messages(),
    # the capital-verification (验资) letter: its format and its one item
    "firm.format.capital": (
        "银行询证函(验资)(投资者缴款,银行确认)",
        "capital verification (验资: contributions, the bank confirms)",
    ),
    "compose.say.capital_blank": (
        "验资询证函须列出请银行确认的投资者缴款",
        "a capital-verification (验资) letter lists the contributions it asks the bank to confirm",
    ),
    "compose.say.capital_only": (
        "只有验资询证函列示投资者缴款;其他格式请将此项标为不适用",
        "only a capital-verification (验资) letter lists contributions; mark this item not applicable",
    ),
    "compose.say.not_on_format": (
        "此项目不属于所选格式的询证函,请标为不适用",
        "this item is not on a letter of the chosen format; mark it not applicable",
    ),
    "value.demand": ("活期", "demand"),
    "value.time": ("定期", "time"),
    "value.call": ("通知存款", "call"),
    "value.margin": ("保证金", "margin"),
    "value.structured": ("结构性存款", "structured"),
    "value.other": ("其他", "other"),
    "value.by_auditee": ("为他人担保", "by the auditee"),
    "value.by_bank": ("银行为公司担保", "by the bank"),
    "value.suretyship": ("保证", "suretyship"),
    "value.mortgage": ("抵押", "mortgage"),
    "value.pledge": ("质押", "pledge"),
    "value.letter_of_guarantee": ("保函", "letter of guarantee"),
    "value.yes": ("是", "yes"),
    "value.no": ("否", "no"),
    "value.not recorded": ("未记录", "not recorded"),
    "value.not closed": ("未注销", "not closed"),
    # The letter's columns of issue 12 (财会〔2020〕12号 格式一) and its letter-level fields
    "field.confirmation_no": ("函证编号", "confirmation no."),
    "field.audit_period": ("审计期间", "audit period"),
    "field.closed_accounts_period": ("期内注销账户期间(自…起至…)", "period of item 3 (closed accounts)"),
    "field.firm_contact": ("函证经办人", "the firm's contact"),
    "field.fee_account": ("扣费账户", "fee account"),
    "value.basic": ("基本存款账户", "basic account"),
    "value.general": ("一般存款账户", "general account"),
    "value.special": ("专用存款账户", "special-purpose account"),
    "value.temporary": ("临时存款账户", "temporary account"),
    "value.closed_end": ("封闭式", "closed-end"),
    "value.open_end": ("开放式", "open-end"),
    # the firm's letter composer and bulk upload (web/firm_compose.py)
    "nav.firm_compose": ("撰写询证函", "Compose a letter"),
    "nav.firm_upload": ("批量上传", "Bulk upload"),
    "compose.title": ("撰写询证函", "Compose a letter"),
    "compose.lead": (
        "按财会〔2020〕12号标准格式填写一封银行询证函:函件信息、14 个项目及附表。提交后即保存并排队上链,"
        "待被审计单位授权。",
        "Fill in one bank confirmation letter in the standard layout: the letter, its 14 items and the "
        "annex. Once submitted it is stored and queued for the chain, awaiting the auditee's authorisation.",
    ),
    "compose.to_upload": ("多封询证函请用批量上传。", "For many letters use the bulk upload."),
    "compose.has_errors": (
        "询证函未创建:请修改下面标红的内容。",
        "The letter was not created: correct what is marked in red below.",
    ),
    "compose.letter": ("函件信息", "The letter"),
    "compose.letter_lead": (
        "带 * 的为必填。回函截止日留空则为两周后。",
        "Fields with * are required. Without a reply due date the letter is due in two weeks.",
    ),
    "compose.choose_bank": ("请选择银行", "Choose the bank"),
    "compose.items_lead": (
        "每个项目列出条目或勾选“不适用”:格式一中每个项目都须如此;格式二中两者皆无的项目留给银行填写。",
        'List each item\'s entries or tick "not applicable": every item in format one; in format two an '
        "item with neither is left for the bank to fill in.",
    ),
    "compose.figure": ("格式一由审计师填写的数据", "a figure the auditor states in format one"),
    "compose.add_row": ("添加一行", "Add a row"),
    "compose.remove_row": ("删除此行", "Remove this row"),
    "compose.submit": ("检查并创建询证函", "Check and create the letter"),
    "compose.submit_lead": (
        "与批量上传同样检查;有误时不会创建。",
        "Checked as an upload is; nothing is created while anything is wrong.",
    ),
    "compose.created": ("询证函已创建,待上链。", "The letter is created and queued for the chain."),
    "compose.due_default": ("两周后(默认)", "in two weeks (default)"),
    "compose.hint.bank_name": ("留空则用成员登记的名称", "blank: the member's registered name"),
    "compose.hint.auditee_code": ("统一社会信用代码", "unified social credit code"),
    "compose.col.letter_key": ("询证函标识", "letter key"),
    "compose.col.letter_format": ("格式", "format"),
    "compose.col.reference_date": ("基准日", "reference date"),
    "compose.col.letter_date": ("发函日期", "letter date"),
    "compose.col.reply_due": ("回函截止日", "reply due"),
    "compose.col.bank_member_no": ("银行", "bank"),
    "compose.col.bank_name": ("银行名称", "bank name"),
    "compose.col.bank_branch": ("开户网点", "branch"),
    "compose.col.auditee_code": ("被审计单位统一社会信用代码", "auditee's registration code"),
    "compose.col.auditee_name": ("被审计单位名称", "auditee's name"),
    "compose.col.contact_name": ("被审计单位联系人", "auditee's contact"),
    "compose.col.contact_phone": ("联系电话", "contact's phone"),
    "compose.col.contact_email": ("联系邮箱", "contact's email"),
    "compose.col.audit_period_start": ("审计期间起", "audit period from"),
    "compose.col.audit_period_end": ("审计期间止", "audit period to"),
    "compose.col.closed_period_start": (
        "注销账户期间起(默认审计期间)",
        "closed accounts from (default: the audit period)",
    ),
    "compose.col.closed_period_end": ("注销账户期间止", "closed accounts to"),
    "compose.col.firm_contact_name": ("事务所函证经办人", "the firm's contact"),
    "compose.col.firm_contact_phone": ("经办人电话", "contact's phone"),
    "compose.col.firm_contact_email": ("经办人邮箱", "contact's email"),
    "compose.col.fee_account_no": ("扣费账号(格式二)", "fee account (format two)"),
    "compose.col.fee_account_name": ("扣费账户名称", "fee account's name"),
    "compose.col.item": ("项目", "item"),
    "compose.col.not_applicable": ("不适用", "not applicable"),
    "compose.say.required": ("必填", "required"),
    "compose.say.date": ("请填写有效日期,如 2024-12-31", "give a date such as 2024-12-31"),
    "compose.say.number": ("请填写数字", "give a number"),
    "compose.say.places": ("最多 {n} 位小数", "at most {n} decimal places"),
    "compose.say.negative": ("不能为负数", "must not be negative"),
    "compose.say.too_big": ("数值过大(须小于 10^{n})", "too large (below 10^{n})"),
    "compose.say.currency": ("币种为三个大写字母,如 CNY", "a currency is three capital letters, such as CNY"),
    "compose.say.pattern": (
        "格式不正确(只能含字母、数字及 - / .)",
        "wrong form (letters, digits and - / . only)",
    ),
    "compose.say.too_long": ("最多 {n} 个字符", "at most {n} characters"),
    "compose.say.choice": ("请从列表中选择", "choose one from the list"),
    "compose.say.figure": ("格式一须由审计师填写此项", "format one states this figure"),
    "compose.say.yes_no": ("请填写“是”或“否”", "give yes or no"),
    "compose.say.ignored_salt": (
        "已忽略:审计师无需填写盐值(被审计单位签字人授权时提供客户标识,银行收函时核对)",
        "ignored: the auditor gives no salt (the auditee's signer supplies its reference when it "
        "authorises, and the bank checks it is the auditee's)",
    ),
    "compose.say.due_past": ("回函截止日须晚于今天", "the reply due date must be after today"),
    "compose.say.reference_late": ("基准日不能晚于发函日期", "the reference date is after the letter's date"),
    "compose.say.registration_code": (
        "统一社会信用代码为 8 至 32 位字母和数字",
        "a registration code is 8 to 32 letters and digits",
    ),
    "compose.say.no_member": ("网络中没有成员 {n}", "the network has no member {n}"),
    "compose.say.not_bank": ("成员 {n}({name})不是银行", "member {n} ({name}) is not a bank"),
    "compose.say.bank_inactive": (
        "银行 {n}({name})状态为 {status},不能接收询证函",
        "bank {n} ({name}) is {status}: it receives no letters",
    ),
    "compose.say.dates_order": ("{first}晚于{last}", "{first} is after {last}"),
    "compose.say.restriction": (
        "有使用限制的账户须填写使用限制说明(无限制则不填)",
        "a restricted account needs its restriction, and only a restricted one",
    ),
    "compose.say.fx_same": ("买入与卖出币种不能相同", "an FX contract buys one currency and sells another"),
    "compose.say.amount_currency": ("填写金额时须填写币种", "an amount needs a currency"),
    "compose.say.contact_name": (
        "填写联系电话或邮箱时须填写联系人",
        "a contact's phone or email needs a name",
    ),
    "compose.say.na_and_entries": ("已标为不适用,但又列有条目", "marked not applicable but has entries"),
    "compose.say.item_blank": (
        "格式一中每个项目须列出条目或标为不适用",
        "format one lists each item's entries or marks it not applicable",
    ),
    "compose.say.no_rows": ("没有任何询证函内容", "there are no rows of letters"),
    "compose.say.unknown_column_hint": (
        "未知的列(是否为 {column}?)",
        "unknown column (did you mean {column}?)",
    ),
    "compose.say.unknown_column": ("未知的列", "unknown column"),
    "compose.say.column_missing": ("缺少必需的列", "required column missing"),
    "compose.say.column_twice": ("列名重复", "the column appears twice"),
    "compose.say.not_an_item": (
        "“{value}”不是项目(deposits、loans…或 1–14)",
        "'{value}' is not an item (deposits, loans, … or 1–14)",
    ),
    "compose.say.not_a_format": ("“{value}”不是有效的格式", "'{value}' is not a letter format"),
    "compose.say.foreign_field": ("此列不属于该项目", "this column does not belong to the row's item"),
    "compose.say.disagrees": (
        "此处为“{here}”,但同一询证函第 {row} 行为“{there}”",
        "'{here}' here but '{there}' in row {row} of the same letter",
    ),
    "compose.say.beyond": ("最后一列之后还有内容", "values beyond the last column"),
    "compose.say.too_many_rows": ("行数过多,请拆分文件", "too many rows: split the file"),
    "compose.say.exists": ("此询证函已存在", "this letter exists already"),
    "compose.upload.title": ("批量上传询证函", "Bulk upload of letters"),
    "compose.upload.lead": (
        "上传 CSV 或 Excel 表格(每行一个条目)。发送前逐行检查;全部无误后显示将创建的询证函,确认后才发送。",
        "Upload a CSV or Excel sheet (one row per entry). Every row is checked before anything is sent; "
        "when all are right the letters it would create are shown, and sent once you confirm.",
    ),
    "compose.upload.choose_title": ("选择文件", "Choose a file"),
    "compose.upload.file": ("表格文件(.csv 或 .xlsx,最大 {mb} MB)", "Sheet (.csv or .xlsx, at most {mb} MB)"),
    "compose.upload.check": ("上传并检查", "Upload and check"),
    "compose.upload.template": ("下载模板(CSV)", "Download the template (CSV)"),
    "compose.upload.template_lead": (
        "模板含全部列及示例行;列的说明见 docs/AUDITOR_CLIENT.md。",
        "The template has every column and example rows; docs/AUDITOR_CLIENT.md explains them.",
    ),
    "compose.upload.recent": ("最近的上传", "Recent uploads"),
    "compose.upload.file_name": ("文件", "File"),
    "compose.upload.state": ("状态", "State"),
    "compose.upload.letters": ("询证函(已处理/总数)", "Letters (handled/total)"),
    "compose.upload.when": ("上传时间", "Uploaded"),
    "compose.upload.plan_title": ("上传:{name}", "Upload: {name}"),
    "compose.upload.back": ("返回批量上传", "Back to the bulk upload"),
    "compose.upload.issues": ("{n} 个问题,涉及 {rows} 行", "{n} problems in {rows} rows"),
    "compose.upload.nothing_sent": (
        "未发送任何询证函。请修改表格后重新上传。",
        "Nothing was sent. Correct the sheet and upload it again.",
    ),
    "compose.upload.row": ("行", "Row"),
    "compose.upload.column": ("列", "Column"),
    "compose.upload.problem": ("问题", "Problem"),
    "compose.upload.row_no": ("第 {n} 行", "row {n}"),
    "compose.upload.more_issues": ("另有 {n} 个问题未列出", "{n} more problems not listed"),
    "compose.upload.again": ("重新上传", "Upload again"),
    "compose.upload.clean": (
        "检查通过:{rows} 行,将创建 {letters} 封询证函",
        "All {rows} rows are right: {letters} letters to create",
    ),
    "compose.upload.held_before": (
        "其中 {n} 封此前已由同一表格创建,不会重复发送。",
        "{n} of them were created from this sheet before and are not sent again.",
    ),
    "compose.upload.rows": ("行", "Rows"),
    "compose.upload.items": ("列有条目的项目", "Items with entries"),
    "compose.upload.entries": ("条目数", "Entries"),
    "compose.upload.send": ("确认发送 {n} 封询证函", "Send the {n} letters"),
    "compose.upload.send_lead": (
        "分批创建(每批全部成功或全部不创建);可离开本页,稍后在此查看进度。",
        "Created in batches (each all or none); you may leave this page and come back for the progress.",
    ),
    "compose.upload.progress": (
        "已处理 {done} / {total}({percent}%)",
        "{done} of {total} handled ({percent}%)",
    ),
    "compose.upload.created": ("本次创建 {n} 封", "{n} created now"),
    "compose.upload.held": ("{n} 封此前已创建,未重复发送", "{n} created before, not sent again"),
    "compose.upload.failed": (
        "发送在处理 {n} 封后停止;已创建的询证函保留。修正后重新上传同一表格,只会发送尚未创建的询证函。",
        "Sending stopped after {n} letters; those created stay. Correct it and upload the same sheet "
        "again: only the letters not yet created are sent.",
    ),
    "compose.upload.to_letters": ("查看询证函进度", "See the letters"),
    "compose.upload.choose": ("请选择要上传的文件", "Choose a file to upload"),
    "compose.upload.too_big": ("文件超过 {mb} MB,请拆分", "The file exceeds {mb} MB: split it"),
    "compose.upload.unreadable": ("无法读取该文件:{error}", "The file cannot be read: {error}"),
    "compose.upload.gone": (
        "本网关没有这个上传任务(可能已过期,或网关已重启)。已创建的询证函都在询证函进度中;重新上传同一表格,"
        "只会发送尚未创建的询证函。",
        "This gateway holds no such upload (it expired, or the gateway restarted). The letters created are "
        "on the letters page; uploading the same sheet again sends only those not created yet.",
    ),
    "compose.job.planned": ("待确认发送", "Awaiting your confirmation"),
    "compose.job.issues": ("有问题,未发送", "Has problems; nothing sent"),
    "compose.job.sending": ("正在发送…", "Sending…"),
    "compose.job.done": ("发送完成", "Done"),
    "compose.job.failed": ("发送中止", "Stopped"),
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
    # the reply's conclusion, differences and sign-offs, and the bank's notices (web/replies.py)
    "reply.conclusion": ("结论:{words}", "Conclusion: {words}"),
    "reply.differences": ("差异清单", "Differences"),
    "firm.reply.marked": ("差异以红色标出", "the differences are marked in red"),
    "reply.reference": ("账号/编号 {reference}", "no. {reference}"),
    "reply.values": ("函证所列 {auditor},银行记录 {bank}", "the letter: {auditor}, the bank: {bank}"),
    "reply.automated": (
        "由银行自动化控制“{control}”复核通过;该控制的责任人:{accountable}",
        "approved by the bank's automated control “{control}”; accountable for it: {accountable}",
    ),
    "reply.no_relationship": (
        "银行声明:本行与被审计单位无业务关系(截至基准日未开立账户、无任何业务往来)。"
        "这是审计证据而非退函:请核实被审计单位提供的开户信息,并执行追加程序。",
        "The bank states it holds no relationship with the auditee (no account, no business at the "
        "reference date). This is audit evidence, not a rejection: check what the auditee told you "
        "and perform further procedures.",
    ),
    "reply.confirmation_no": ("函证编号", "Confirmation no."),
    "notice.title": ("银行不符合要求通知", "The bank's non-compliance notice"),
    "notice.reason": ("原因", "Reason"),
    "notice.detail": ("具体说明", "Details"),
    "notice.by": ("经办", "By"),
    "notice.issued_on": ("通知日期", "Issued on"),
    "notice.correct": (
        "可修改后重新发函,新函将引用本函(corrects)。",
        "You may send a corrected letter; it refers to this one (corrects).",
    ),
    "firm.rejection.6": ("函证费未支付", "the confirmation fee is unpaid"),
    "firm.rejection.7": ("不受理该函证格式或范围", "a format or scope the bank does not confirm"),
    # --- re-sending a rejected letter (更正函) and the letter's PDFs ---
    "firm.do.resend": ("修改后重新发函", "Correct and send again"),
    "firm.do.letter_pdf": ("下载询证函(PDF)", "Download the letter (PDF)"),
    "firm.do.reply_pdf": ("下载回函(PDF)", "Download the reply (PDF)"),
    "firm.letter.corrects": ("更正函,引用", "Corrects"),
    "firm.letter.corrected_by": ("已由更正函重新发出", "Corrected and sent again as"),
    "compose.correct.of": ("更正函:引用 {no}", "Correction: refers to {no}"),
    "compose.correct.see": ("查看原函", "see the rejected letter"),
    "compose.correct.lead": (
        "已按被拒绝的原函填好,请按银行的通知修改后提交。",
        "Filled in from the rejected letter: change what the bank's notice asks and submit.",
    ),
    "compose.correct.not_rejected": (
        "只有被银行拒绝的询证函才可更正后重新发函",
        "only a letter the bank rejected is corrected and sent again",
    ),
    "compose.correct.damaged": ("更正所引用的函证编号无效", "the letter this corrects is not a valid id"),
    "compose.say.correct_unknown": (
        "本所没有可更正的询证函 {value}",
        "this firm sent no letter {value} to correct",
    ),
    "compose.say.correct_state": (
        "询证函 {value} 的状态为 {status},只有被银行拒绝的函可更正",
        "letter {value} is {status}; only a letter the bank rejected is corrected",
    ),
    "compose.say.correct_bank": (
        "更正函须发往拒绝原函的银行",
        "a correction goes to the bank that rejected the letter",
    ),
    "compose.say.correct_auditee": (
        "更正函的被审计单位须与原函相同",
        "a correction confirms the same auditee as the letter",
    ),
    # --- the firm's review (审核), recall (召回), acceptance (验收) and return (退回) ---
    "letterstatus.PREPARED": ("待项目经理审核", "prepared, awaiting the manager's review"),
    "letterstatus.RECALLED": ("已召回(未发出)", "recalled (never sent)"),
    "firm.review.lead": (
        "本函由 {preparer} 编制,经另一位项目经理审核通过后才会上链并发送被审计单位授权。",
        "Prepared by {preparer}; it goes on chain and to the auditee only once another person, a "
        "manager, has approved it.",
    ),
    "firm.review.prepared": ("编制:{name}", "Prepared: {name}"),
    "firm.review.reviewed": ("审核:{name}", "Reviewed: {name}"),
    "firm.review.accepted": ("验收:{name}", "Accepted: {name}"),
    "firm.do.approve": ("审核通过并发出", "Approve and send"),
    "firm.do.recall": ("召回(不发出)", "Recall (do not send)"),
    "firm.do.recall_confirm": (
        "召回后本函不会发出,确定召回吗?",
        "Recalled, the letter is never sent. Recall it?",
    ),
    "firm.do.accept": ("验收回函并关闭", "Accept the reply and close"),
    "firm.done.approve": ("已审核通过,待上链", "Approved; queued for the chain"),
    "firm.done.recall": ("已召回,本函不会发出", "Recalled; the letter will not be sent"),
    # --- the banks' business rules (业务规则), before a letter is composed ---
    "rules.title": ("各银行函证业务规则", "The banks' confirmation rules"),
    "rules.lead": (
        "发函前请核对:银行受理的函证范围、格式、收费与联系人,由银行以成员密钥签名发布,本所网关已核验。",
        "Check before you write: what each bank confirms, the formats it accepts, its fee and contact, "
        "signed by the bank with its member key and checked by this gateway.",
    ),
    "rules.none": ("尚未取得该行发布的业务规则", "no rules published by this bank yet"),
    "rules.items": ("受理的函证项目", "Items it confirms"),
    "rules.formats": ("受理的格式", "Formats accepted"),
    "rules.fee": ("函证费", "Fee"),
    "rules.fee_per_letter": (
        "每份 {amount} 元,从函证列明的扣费账户扣收",
        "CNY {amount} a letter, from the fee account the letter names",
    ),
    "rules.no_fee": ("不收费", "no fee"),
    "rules.contact": ("联系", "Contact"),
    "rules.notes": ("说明", "Notes"),
    "rules.published": ("发布时间", "Published"),
    "rules.signed": ("✓ 银行签名已核验", "✓ the bank's signature checked"),
    "compose.say.format_not_accepted": (
        "银行(成员 {n})公布的业务规则只受理{value}的询证函,本函为{format}:请改用其受理的格式",
        "bank {n} accepts letters in {value} only (its published rules); this letter is {format}: "
        "choose a format it accepts",
    ),
    "firm.returned.not_authorised_in_time": (
        "已退回:被审计单位未在期限内授权",
        "returned: the auditee did not authorise it in time",
    ),
    # --- the bank's statutory deadline on the firm's pages (财会〔2020〕12号) ---
    "firm.statutory.reply": ("法定回函期限", "Statutory reply deadline"),
    "firm.statutory.notice": ("法定不符通知期限", "Statutory notice deadline"),
    "firm.statutory.provisional": ("(暂定)", "(provisional)"),
    "firm.statutory.left": ("剩 {n} 个工作日", "{n} working days left"),
    "firm.statutory.today": ("今日到期", "due today"),
    "firm.statutory.late": ("已超过法定期限 {n} 个工作日", "{n} working days past the statutory deadline"),
    "firm.statutory.met.reply": ("银行已在法定期限内回函", "the bank replied within the statutory deadline"),
    "firm.statutory.met.notice": (
        "银行已在法定期限内发出不符通知",
        "the bank sent its notice within the statutory deadline",
    ),
    "firm.statutory.missed.reply": (
        "银行回函超过法定期限 {n} 个工作日",
        "the bank replied {n} working days past the statutory deadline",
    ),
    "firm.statutory.missed.notice": (
        "银行不符通知超过法定期限 {n} 个工作日",
        "the bank's notice came {n} working days past the statutory deadline",
    ),
    "firm.statutory.rule": (
        "银行应自受理符合要求的询证函起 10 个工作日内回函(未受理的自授权起算),不符合要求的 3 个工作日内告知;按官方工作日历计算,暂定表示该年日历尚未公布",
        "The bank replies within 10 working days of accepting a compliant letter (counted from the "
        "authorisation while it has not decided) and sends a non-compliance notice within 3; counted "
        "in the official working-day calendar, provisional where that year's is not published yet",
    ),
    "firm.col.bank_late": ("银行超法定期限", "Bank past statutory deadline"),
    "firm.bank_late.yes": ("已超法定期限", "past"),
    "firm.bank_late.no": ("未超", "not past"),
    "firm.bank_late.past": ("超 {n} 个工作日", "{n} working days past"),
    "firm.bank_late.by": ("法定期限 {due}", "statutory deadline {due}"),
    # --- the auditee's signing page with a passkey (issue 14; web/signing.py) ---
    "sign.title": ("授权询证函", "Authorise the letters"),
    "sign.lead": (
        "您的签名授权以下 {n} 份询证函(致 {banks} 家银行)。请逐项核对后使用通行密钥签署,或说明理由拒绝授权。",
        "Your signature authorises the {n} letters below (to {banks} banks). Check every item, then "
        "sign with your passkey, or refuse and say why.",
    ),
    "sign.to_actions": ("核对后前往签署 ↓", "Checked? Go to signing ↓"),
    "sign.letter_no": ("函证编号", "Letter no."),
    "sign.letter_hash": ("询证函哈希", "Letter hash"),
    "sign.what": ("签名内容", "What you sign"),
    "sign.digest": ("EIP-712 摘要", "EIP-712 digest"),
    "sign.no_key": (
        "签名由您的通行密钥在本设备上完成,本页面不接触私钥;摘要即通行密钥签署的挑战值。",
        "Your passkey signs on this device; the page never sees a private key. The digest is the "
        "challenge the passkey signs.",
    ),
    "sign.button": ("使用通行密钥签署", "Sign with a passkey"),
    "sign.refuse": ("拒绝授权", "Refuse to authorise"),
    "sign.reason": ("拒绝原因", "Reason"),
    "sign.reason_text": (
        "拒绝理由(1–500 字,仅会计师事务所可见,不上链)",
        "Reason in words (1–500 characters, kept by the firm, never on chain)",
    ),
    "sign.refuse_button": ("拒绝授权(通行密钥签署)", "Refuse, signed with a passkey"),
    "sign.cli": (
        "或使用命令行 confirmnet authorise 签署",
        "or sign with the command line, confirmnet authorise",
    ),
    "sign.no_webauthn": ("此浏览器不支持通行密钥", "This browser does not support passkeys"),
    "sign.waiting": ("请按设备提示验证通行密钥…", "Verify with your passkey as your device asks…"),
    "sign.sending": ("已签署,正在提交…", "Signed; submitting…"),
    "sign.cancelled": ("未能签署", "Not signed"),
    "sign.done_title": ("已提交", "Submitted"),
    "sign.done_authorise": (
        "已签署授权 {n} 份询证函,正在上链。",
        "You authorised {n} letters; going on chain.",
    ),
    "sign.done_refuse": (
        "已签署拒绝授权 {n} 份询证函,正在上链。",
        "You refused {n} letters; going on chain.",
    ),
    "sign.signer": ("签字人(通行密钥)", "Signer (passkey)"),
    "sign.checking": ("正在本页核对…", "Checking in this page…"),
    "sign.verified": (
        "✓ 已核对:本页根据所示询证函重新计算了每份询证函的哈希、Merkle 根和 EIP-712 摘要,均一致",
        "✓ Checked: this page recomputed every letter's hash, the Merkle root and the EIP-712 "
        "digest from the letters shown; all match",
    ),
    "sign.mismatch": (
        "✗ 核对不一致,请勿签署,并联系会计师事务所:",
        "✗ These do not match; do not sign, and tell the audit firm:",
    ),
    # --- end of the signing page's messages ---
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
