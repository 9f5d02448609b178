import { MemoryStateStore } from '../../lib/state/memory';
import { describeStateStoreContract } from './stateStore.contract';

describeStateStoreContract('memory', async () => new MemoryStateStore());
