/**
 * The built-in provider catalog: which mailbox provider really receives mail for a domain.
 *
 * Domain patterns: an exact domain (`gmail.com`), a subdomain wildcard (`*.example.com`: any
 * subdomain, not the apex), or a brand wildcard (`hotmail.*`: the brand label followed by a
 * country-style suffix such as `.fr`, `.co.uk` or `.com.br`, see `isCountryStyleSuffix`).
 * MX suffixes match an MX host on a label boundary: `.google.com` matches `aspmx.l.google.com`
 * and `google.com`, never `evilgoogle.com`.
 */
export interface ProviderGroup {
	id: string;
	label: string;
	domains: readonly string[];
	mxSuffixes: readonly string[];
	/** security gateways in front of a company's mailbox provider: off unless selected */
	gateway?: boolean;
}

export const BUILT_IN_GROUPS: readonly ProviderGroup[] = [
	{
		id: 'google',
		label: 'Google (Gmail, Workspace)',
		domains: ['gmail.com', 'googlemail.com', 'google.com'],
		mxSuffixes: ['.google.com', '.googlemail.com', '.psmtp.com', '.smtp.goog'],
	},
	{
		id: 'microsoft',
		label: 'Microsoft (Outlook.com, Hotmail, Microsoft 365)',
		domains: [
			'outlook.*',
			'hotmail.*',
			'live.*',
			'msn.com',
			'passport.com',
			'windowslive.com',
			'outlook.com',
		],
		mxSuffixes: [
			'.olc.protection.outlook.com',
			'.mail.protection.outlook.com',
			'.mx.microsoft',
			'.hotmail.com',
		],
	},
	{
		id: 'yahoo',
		label: 'Yahoo (Yahoo, AOL, Verizon, AT&T)',
		domains: [
			'yahoo.*',
			'ymail.com',
			'rocketmail.com',
			'aol.com',
			'aol.*',
			'aim.com',
			'verizon.net',
			'att.net',
			'sbcglobal.net',
			'bellsouth.net',
			'pacbell.net',
			'swbell.net',
			'ameritech.net',
			'flash.net',
			'prodigy.net',
			'nvbell.net',
			'snet.net',
			'wans.net',
			'frontier.com',
			'rogers.com',
			'sky.com',
		],
		mxSuffixes: ['.yahoodns.net', '.mx.aol.com', '.yahoo.com', '.am0.yahoodns.net'],
	},
	{
		id: 'apple',
		label: 'Apple (iCloud)',
		domains: ['icloud.com', 'me.com', 'mac.com'],
		mxSuffixes: ['.icloud.com', '.mail.me.com'],
	},
	{
		id: 'gmx',
		label: 'GMX, WEB.DE, mail.com (United Internet)',
		domains: [
			'gmx.net',
			'gmx.de',
			'gmx.com',
			'gmx.at',
			'gmx.ch',
			'gmx.fr',
			'gmx.co.uk',
			'gmx.us',
			'gmx.es',
			'gmx.it',
			'web.de',
			'mail.com',
			'email.com',
			'usa.com',
			'post.com',
			'consultant.com',
			'myself.com',
			'europe.com',
			'engineer.com',
			'dr.com',
			'cheerful.com',
			'techie.com',
		],
		mxSuffixes: [
			'.gmx.net',
			'.gmx.com',
			'.web.de',
			'.mail.com',
			'.1and1.com',
			'.ionos.com',
			'.kundenserver.de',
		],
	},
	{
		id: 'yandex',
		label: 'Yandex',
		domains: [
			'yandex.ru',
			'yandex.com',
			'yandex.by',
			'yandex.kz',
			'yandex.ua',
			'yandex.com.tr',
			'ya.ru',
			'narod.ru',
		],
		mxSuffixes: ['.yandex.ru', '.yandex.net'],
	},
	{
		id: 'mailru',
		label: 'Mail.ru',
		domains: ['mail.ru', 'bk.ru', 'inbox.ru', 'list.ru', 'internet.ru', 'mail.ua'],
		mxSuffixes: ['.mail.ru'],
	},
	{
		id: 'comcast',
		label: 'Comcast (Xfinity)',
		domains: ['comcast.net', 'xfinity.com'],
		mxSuffixes: ['.comcast.net'],
	},
	{
		id: 'orange',
		label: 'Orange (Wanadoo)',
		domains: ['orange.fr', 'wanadoo.fr', 'voila.fr', 'orange.net'],
		mxSuffixes: ['.orange.fr', '.wanadoo.fr'],
	},
	{
		id: 'qq',
		label: 'Tencent QQ',
		domains: ['qq.com', 'foxmail.com', 'vip.qq.com'],
		mxSuffixes: ['.qq.com'],
	},
	{
		id: 'netease',
		label: 'NetEase (163, 126)',
		domains: [
			'163.com',
			'126.com',
			'yeah.net',
			'188.com',
			'vip.163.com',
			'vip.126.com',
			'netease.com',
		],
		mxSuffixes: ['.163.com', '.126.com', '.netease.com'],
	},
	{
		id: 'zoho',
		label: 'Zoho Mail',
		domains: ['zoho.com', 'zohomail.com', 'zoho.eu', 'zohomail.eu', 'zoho.in', 'zohomail.in'],
		mxSuffixes: ['.zoho.com', '.zoho.eu', '.zoho.in', '.zohomail.com'],
	},
	{
		id: 'proton',
		label: 'Proton Mail',
		domains: ['proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me'],
		mxSuffixes: ['.protonmail.ch', '.proton.me'],
	},
	{
		id: 'fastmail',
		label: 'Fastmail',
		domains: ['fastmail.com', 'fastmail.fm', 'fastmail.net', 'fastmail.org', 'messagingengine.com'],
		mxSuffixes: ['.messagingengine.com', '.fastmail.com'],
	},
	{
		id: 'tonline',
		label: 'T-Online',
		domains: ['t-online.de', 'magenta.de'],
		mxSuffixes: ['.t-online.de'],
	},
	{
		id: 'libero',
		label: 'Italiaonline (Libero, Virgilio)',
		domains: ['libero.it', 'virgilio.it', 'inwind.it', 'iol.it', 'blu.it'],
		mxSuffixes: ['.libero.it', '.iol.it'],
	},
	{
		id: 'free',
		label: 'Free (free.fr)',
		domains: ['free.fr', 'aliceadsl.fr'],
		mxSuffixes: ['.free.fr'],
	},
	{
		id: 'seznam',
		label: 'Seznam',
		domains: ['seznam.cz', 'email.cz', 'post.cz', 'spoluzaci.cz'],
		mxSuffixes: ['.seznam.cz'],
	},
	{
		id: 'naver',
		label: 'Naver',
		domains: ['naver.com'],
		mxSuffixes: ['.naver.com'],
	},
	{
		id: 'proofpoint',
		label: 'Proofpoint gateway',
		domains: [],
		mxSuffixes: ['.pphosted.com', '.ppe-hosted.com'],
		gateway: true,
	},
	{
		id: 'mimecast',
		label: 'Mimecast gateway',
		domains: [],
		mxSuffixes: ['.mimecast.com', '.mimecast.co.za'],
		gateway: true,
	},
	{
		id: 'barracuda',
		label: 'Barracuda gateway',
		domains: [],
		mxSuffixes: ['.barracudanetworks.com'],
		gateway: true,
	},
];

export const OTHER_GROUP = 'other';
export const INVALID_GROUP = 'invalid';

export function builtInGroup(id: string): ProviderGroup | undefined {
	return BUILT_IN_GROUPS.find((g) => g.id === id);
}

/**
 * The suffix a brand wildcard (`hotmail.*`) accepts after the brand label: a generic or country
 * TLD (`com`, `fr`, `de`), or a second-level country form (`co.uk`, `com.br`, `co.jp`).
 */
export function isCountryStyleSuffix(rest: string): boolean {
	return /^(?:[a-z]{2,3}|(?:co|com|net|org|ne|or|gen)\.[a-z]{2})$/.test(rest);
}
