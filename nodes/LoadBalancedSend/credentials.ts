import type { ICredentialsDisplayOptions } from 'n8n-workflow';
import { CREDENTIAL_TYPE, PROVIDERS } from './description';

type ProviderId = (typeof PROVIDERS)[number]['value'];
type Kind = 'n8n' | 'postalRoutes';

/**
 * Shown for one provider (and one credential type), written with `hide` only. n8n's editor takes
 * a parameter that credentials name in `displayOptions.show`, and whose every option has a
 * credential, for the node's authentication selector (getMainAuthField in its editor): it drops
 * that parameter from the panel and offers it only in the credential modal's corner dropdown. The
 * Provider select was exactly that, so nobody could see or change it. With `hide`, no parameter is
 * an authentication selector and Provider stays in the panel; the node's test checks that rule.
 */
export function shownFor(provider: ProviderId, kind?: Kind): ICredentialsDisplayOptions {
	const others = PROVIDERS.map((p) => p.value).filter((p) => p !== provider);
	return {
		hide: {
			provider: others,
			...(kind ? { [CREDENTIAL_TYPE]: [kind === 'n8n' ? 'postalRoutes' : 'n8n'] } : {}),
		},
	};
}
