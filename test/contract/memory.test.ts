import { MemoryStateStore } from '../../lib/state/memory';
import { describeKeyIsolationContract } from './keyIsolation.contract';
import {
	describeHealthContract,
	describeRateAndOnceContract,
	describeStateStoreContract,
} from './stateStore.contract';

describeStateStoreContract('memory', async () => new MemoryStateStore());
describeRateAndOnceContract('memory', async () => new MemoryStateStore());
describeHealthContract('memory', async () => new MemoryStateStore());
describeKeyIsolationContract('memory', async () => new MemoryStateStore());
